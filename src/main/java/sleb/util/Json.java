package sleb.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;

/** The one Gson configuration used for every JSON file the tool writes. */
public final class Json {
    public static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    /**
     * For files that must keep a source's JSON as it was (an exported model's config.json): null values are
     * written, not dropped, since transformers reads an absent key as its default and a null one as "none".
     */
    public static final Gson GSON_KEEP_NULLS = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private Json() {}

    /**
     * A value as compact JSON for a message, whole numbers without a fraction: a setting read back from a run
     * file (Gson reads every number as a double) shows as 2, as it was written, not 2.0.
     */
    public static String show(Object value) {
        return show(value instanceof JsonElement ? (JsonElement) value : GSON.toJsonTree(value));
    }

    private static String show(JsonElement e) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double d = e.getAsDouble();
            if (d == Math.rint(d) && Math.abs(d) < 0x1p53) return Long.toString((long) d);
            return e.toString();
        }
        if (e.isJsonArray()) {
            StringBuilder b = new StringBuilder("[");
            for (JsonElement x : e.getAsJsonArray()) b.append(b.length() > 1 ? "," : "").append(show(x));
            return b.append(']').toString();
        }
        if (e.isJsonObject()) {
            StringBuilder b = new StringBuilder("{");
            for (java.util.Map.Entry<String, JsonElement> x : e.getAsJsonObject().entrySet())
                b.append(b.length() > 1 ? "," : "").append(new com.google.gson.JsonPrimitive(x.getKey())).append(':').append(show(x.getValue()));
            return b.append('}').toString();
        }
        return e.toString();
    }
}
