package sleb.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;

/**
 * The sliding-window size of every layer, read from config.json by each family's rule in transformers:
 * <ul>
 *   <li>mistral ({@code MistralConfig}, {@code modeling_mistral.py}): {@code sliding_window} on every layer;
 *       absent means the class default 4096, {@code null} means full attention. A {@code layer_types} list that mixes
 *       attention kinds (transformers 5 warns of it and ignores it: an alternating-attention Ministral model) is refused.</li>
 *   <li>qwen2 ({@code Qwen2Config}): only when {@code use_sliding_window} is true; then the layers that
 *       {@code layer_types} marks {@code sliding_attention}, or without that list the layers from
 *       {@code max_window_layers} (default 28) on; {@code sliding_window} absent means 4096.</li>
 *   <li>llama: no window ({@code LlamaConfig} has none).</li>
 * </ul>
 * A window of w positions lets query i see keys j with i - w &lt; j &lt;= i. Returns one entry per layer,
 * 0 for full attention.
 */
final class SlidingWindows {
    /** transformers' MistralConfig and Qwen2Config default for sliding_window. */
    static final int DEFAULT_WINDOW = 4096;
    /** transformers' Qwen2Config default for max_window_layers. */
    static final int QWEN2_MAX_WINDOW_LAYERS = 28;

    private SlidingWindows() {}

    static int[] of(JsonObject c, String modelType, int layers, Path file) {
        int[] w = new int[layers];
        switch (modelType) {
            case "mistral": {
                int size = c.has("sliding_window") ? window(c, file) : DEFAULT_WINDOW;
                java.util.Arrays.fill(w, size);
                JsonElement types = HfConfig.get(c, "layer_types");
                if (types != null && (!types.isJsonArray() || new java.util.HashSet<>(types.getAsJsonArray().asList()).size() > 1))
                    throw new ModelFormatException(file + ": layer_types gives layers different attention, which MistralForCausalLM ignores"
                            + " (it applies sliding_window to every layer); alternating-attention models (Ministral) are not supported");
                return w;
            }
            case "qwen2": {
                boolean use = HfConfig.bool(c, "use_sliding_window", false, file);
                boolean[] sliding = qwen2Sliding(c, layers, file);
                if (!use) {
                    for (boolean s : sliding)
                        if (s && HfConfig.get(c, "layer_types") != null)
                            throw new ModelFormatException(file + ": layer_types marks sliding_attention layers but use_sliding_window is false;"
                                    + " the config contradicts itself, fix one of the two");
                    return w;
                }
                int size = c.has("sliding_window") ? window(c, file) : DEFAULT_WINDOW;
                for (int i = 0; i < layers; i++) if (sliding[i]) w[i] = size;
                return w;
            }
            default:
                return w;
        }
    }

    /** sliding_window as a positive integer, or 0 for JSON null. */
    private static int window(JsonObject c, Path file) {
        if (HfConfig.get(c, "sliding_window") == null) return 0;
        int size = HfConfig.intOpt(c, "sliding_window", 0, file);
        if (size <= 0) throw HfConfig.bad(file, "sliding_window", c.get("sliding_window"), "a positive integer or null");
        return size;
    }

    /** Which Qwen2 layers slide when use_sliding_window is on: layer_types if given, else i >= max_window_layers. */
    private static boolean[] qwen2Sliding(JsonObject c, int layers, Path file) {
        boolean[] s = new boolean[layers];
        JsonElement types = HfConfig.get(c, "layer_types");
        if (types == null) {
            int first = HfConfig.intOpt(c, "max_window_layers", QWEN2_MAX_WINDOW_LAYERS, file);
            for (int i = 0; i < layers; i++) s[i] = i >= first;
            return s;
        }
        if (!types.isJsonArray() || types.getAsJsonArray().size() != layers)
            throw HfConfig.bad(file, "layer_types", types, "a list of " + layers + " entries (one per layer)");
        JsonArray a = types.getAsJsonArray();
        for (int i = 0; i < layers; i++) {
            JsonElement e = a.get(i);
            String t = e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : String.valueOf(e);
            if (t.equals("sliding_attention")) s[i] = true;
            else if (!t.equals("full_attention"))
                throw new ModelFormatException(file + ": layer_types[" + i + "] is " + e + "; SLEB-J supports full_attention and sliding_attention");
        }
        return s;
    }
}
