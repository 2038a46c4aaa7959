package sleb.util;

import com.google.gson.JsonElement;
import java.util.Map;

/**
 * The one comparison of a resumable file's recorded settings with the settings of the run asked for now
 * (prune's run.json, eval's and zeroshot's results files). Values compare as JSON trees, so a number that
 * Gson read back as 2.0 equals the int 2 it was written from; values show as {@link Json#show} writes them.
 */
public final class SettingsDiff {
    private SettingsDiff() {}

    /**
     * A setting that is not the same: {@code recorded} and {@code now} as shown to the user; {@code now} is null
     * when the setting was recorded but is not part of the run asked for now.
     */
    public record Change(String key, String recorded, String now) {}

    /** The first changed setting in the order of {@code now}, then a recorded one missing now; null when they agree. */
    public static Change first(Map<String, Object> recorded, Map<String, Object> now) {
        for (Map.Entry<String, Object> e : now.entrySet()) {
            JsonElement a = Json.GSON.toJsonTree(recorded.get(e.getKey())), b = Json.GSON.toJsonTree(e.getValue());
            if (!a.equals(b)) return new Change(e.getKey(), Json.show(a), Json.show(b));
        }
        for (String k : recorded.keySet()) if (!now.containsKey(k)) return new Change(k, Json.show(recorded.get(k)), null);
        return null;
    }
}
