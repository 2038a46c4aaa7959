package sleb.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The one Gson configuration used for every JSON file the tool writes. */
public final class Json {
    public static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    /**
     * For files that must keep a source's JSON as it was (an exported model's config.json): null values are
     * written, not dropped, since transformers reads an absent key as its default and a null one as "none".
     */
    public static final Gson GSON_KEEP_NULLS = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private Json() {}
}
