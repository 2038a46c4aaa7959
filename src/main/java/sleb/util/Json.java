package sleb.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The one Gson configuration used for every JSON file the tool writes. */
public final class Json {
    public static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    private Json() {}
}
