package sleb.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;

/** Strict JSON parsing: Gson's JsonParser is lenient by default and would accept truncated or garbled headers. */
final class StrictJson {
    private StrictJson() {}

    /** The top-level object; throws JsonParseException with a short reason otherwise. */
    static JsonObject parseObject(String text) {
        try {
            JsonReader r = new JsonReader(new StringReader(text));
            r.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) throw new JsonParseException("trailing data after the JSON value");
            if (!e.isJsonObject()) throw new JsonParseException("not a JSON object");
            return e.getAsJsonObject();
        } catch (IOException | IllegalStateException | StackOverflowError e) {
            throw new JsonParseException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    static String reason(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        m = m.replaceFirst("^[\\w.$]+(Exception|Error): ", "");
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        int see = m.indexOf(" See https://");
        return see > 0 ? m.substring(0, see) : m;
    }
}
