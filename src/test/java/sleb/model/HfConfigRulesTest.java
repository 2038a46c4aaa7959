package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertNull;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.testng.annotations.Test;

/**
 * config.json keys that change the math, read by the rules of transformers' config classes, on the key layouts
 * of published configs:
 * <ul>
 *   <li>mistralai/Mistral-7B-v0.1 config.json (transformers 4.34): models/mistral-7b/config.json in this repository,
 *       {@code "sliding_window": 4096}.</li>
 *   <li>mistralai/Mistral-Nemo-Base-2407 config.json (transformers 4.43): {@code "sliding_window": null}, head_dim 128,
 *       hidden 5120, 40 layers, rope_theta 1e6, vocab 131072.</li>
 *   <li>Qwen/Qwen2.5-0.5B config.json (transformers 4.40): {@code "use_sliding_window": false, "sliding_window": 32768,
 *       "max_window_layers": 24}, hidden 896, 24 layers, 14 heads (2 KV), rope_theta 1e6, tied, vocab 151936.</li>
 *   <li>meta-llama/Llama-3.1-8B config.json (transformers 4.43): {@code "rope_theta": 500000.0, "rope_scaling":
 *       {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192,
 *       "rope_type": "llama3"}}; the same settings as transformers 5 writes them, under {@code rope_parameters}.</li>
 * </ul>
 */
public class HfConfigRulesTest {
    private static final Path LABEL = Path.of("config.json");

    private static JsonObject mistral7b() throws Exception {
        return JsonParser.parseString(Files.readString(Path.of("models", "mistral-7b", "config.json"))).getAsJsonObject();
    }

    private static JsonObject nemo() {
        return JsonParser.parseString("{\"architectures\": [\"MistralForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 1,"
                + " \"eos_token_id\": 2, \"head_dim\": 128, \"hidden_act\": \"silu\", \"hidden_size\": 5120, \"initializer_range\": 0.02,"
                + " \"intermediate_size\": 14336, \"max_position_embeddings\": 128000, \"model_type\": \"mistral\", \"num_attention_heads\": 32,"
                + " \"num_hidden_layers\": 40, \"num_key_value_heads\": 8, \"rms_norm_eps\": 1e-05, \"rope_theta\": 1000000.0,"
                + " \"sliding_window\": null, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.43.0.dev0\","
                + " \"use_cache\": true, \"vocab_size\": 131072}").getAsJsonObject();
    }

    private static JsonObject qwen25() {
        return JsonParser.parseString("{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 151643,"
                + " \"eos_token_id\": 151643, \"hidden_act\": \"silu\", \"hidden_size\": 896, \"initializer_range\": 0.02, \"intermediate_size\": 4864,"
                + " \"max_position_embeddings\": 32768, \"max_window_layers\": 24, \"model_type\": \"qwen2\", \"num_attention_heads\": 14,"
                + " \"num_hidden_layers\": 24, \"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,"
                + " \"sliding_window\": 32768, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.40.1\","
                + " \"use_cache\": true, \"use_mrope\": false, \"use_sliding_window\": false, \"vocab_size\": 151936}").getAsJsonObject();
    }

    /** Llama-3.1-8B as transformers 4 writes it (rope_theta and rope_scaling at the top level). */
    private static JsonObject llama31() {
        return JsonParser.parseString("{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0,"
                + " \"bos_token_id\": 128000, \"eos_token_id\": 128001, \"hidden_act\": \"silu\", \"hidden_size\": 4096, \"initializer_range\": 0.02,"
                + " \"intermediate_size\": 14336, \"max_position_embeddings\": 131072, \"mlp_bias\": false, \"model_type\": \"llama\","
                + " \"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8, \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05,"
                + " \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192,"
                + " \"rope_type\": \"llama3\"}, \"rope_theta\": 500000.0, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
                + " \"transformers_version\": \"4.43.0.dev0\", \"use_cache\": true, \"vocab_size\": 128256}").getAsJsonObject();
    }

    /** The same model as transformers 5 writes it: the RoPE settings, theta included, under rope_parameters. */
    private static JsonObject llama31Transformers5() {
        JsonObject c = llama31();
        JsonObject p = c.remove("rope_scaling").getAsJsonObject();
        p.add("rope_theta", c.remove("rope_theta"));
        c.add("rope_parameters", p);
        c.add("dtype", c.remove("torch_dtype"));
        c.addProperty("transformers_version", "5.0.0");
        return c;
    }

    private static ModelConfig parse(JsonObject c) { return HfConfig.parse(c.toString(), LABEL); }

    private static JsonObject edit(JsonObject c, Consumer<JsonObject> e) {
        e.accept(c);
        return c;
    }

    private static void refused(JsonObject c, String... fragments) {
        ModelFormatException e = expectThrows(ModelFormatException.class, () -> parse(c));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message lacks '" + f + "': " + e.getMessage());
    }

    private static int[] windows(ModelConfig c) {
        int[] w = new int[c.nLayers];
        for (int i = 0; i < w.length; i++) w[i] = c.slidingWindow(i);
        return w;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    // ---- sliding_window ----------------------------------------------------------------------------

    @Test
    public void mistralWindowIsReadAbsentMeansTheDefaultNullMeansNone() throws Exception {
        assertEquals(windows(parse(mistral7b())), filled(32, 4096));
        assertEquals(windows(parse(edit(mistral7b(), c -> c.addProperty("sliding_window", 64)))), filled(32, 64));
        // MistralConfig(sliding_window=4096): a config without the key gets the default window
        assertEquals(windows(parse(edit(mistral7b(), c -> c.remove("sliding_window")))), filled(32, 4096));
        assertEquals(windows(parse(nemo())), filled(40, 0));
        assertTrue(parse(mistral7b()).describe().contains("sliding window 4096"), parse(mistral7b()).describe());
        refused(edit(mistral7b(), c -> c.addProperty("sliding_window", 0)), "sliding_window", "positive integer or null");
        refused(edit(mistral7b(), c -> c.addProperty("sliding_window", "4096")), "sliding_window");
        JsonArray mixed = new JsonArray();
        for (int i = 0; i < 32; i++) mixed.add(i % 2 == 0 ? "sliding_attention" : "full_attention");
        refused(edit(mistral7b(), c -> c.add("layer_types", mixed)), "layer_types", "Ministral");
    }

    @Test
    public void qwen2WindowOnlyWithUseSlidingWindowAndFromMaxWindowLayers() {
        assertEquals(windows(parse(qwen25())), filled(24, 0)); // use_sliding_window false: sliding_window 32768 is not used
        int[] want = new int[24];
        for (int i = 20; i < 24; i++) want[i] = 32768;
        ModelConfig on = parse(edit(qwen25(), c -> { c.addProperty("use_sliding_window", true); c.addProperty("max_window_layers", 20); }));
        assertEquals(windows(on), want);
        assertTrue(on.describe().contains("sliding window 32768 on layers 20..23"), on.describe());
        // without max_window_layers, Qwen2Config's default 28 leaves all 24 layers full
        assertEquals(windows(parse(edit(qwen25(), c -> { c.addProperty("use_sliding_window", true); c.remove("max_window_layers"); }))), filled(24, 0));
        // without sliding_window, Qwen2Config's default 4096
        assertEquals(windows(parse(edit(qwen25(), c -> {
            c.addProperty("use_sliding_window", true);
            c.addProperty("max_window_layers", 0);
            c.remove("sliding_window");
        }))), filled(24, 4096));
        // use_sliding_window with sliding_window null: no window
        assertEquals(windows(parse(edit(qwen25(), c -> {
            c.addProperty("use_sliding_window", true);
            c.addProperty("max_window_layers", 0);
            c.add("sliding_window", JsonNull.INSTANCE);
        }))), filled(24, 0));
    }

    @Test
    public void qwen2LayerTypesDecidePerLayer() {
        JsonArray types = new JsonArray();
        for (int i = 0; i < 24; i++) types.add(i % 3 == 1 ? "sliding_attention" : "full_attention");
        ModelConfig c = parse(edit(qwen25(), o -> {
            o.addProperty("use_sliding_window", true);
            o.addProperty("sliding_window", 64);
            o.add("layer_types", types);
        }));
        for (int i = 0; i < 24; i++) assertEquals(c.slidingWindow(i), i % 3 == 1 ? 64 : 0, "layer " + i);
        refused(edit(qwen25(), o -> o.add("layer_types", types)), "layer_types", "use_sliding_window is false");
        JsonArray shortList = new JsonArray();
        shortList.add("full_attention");
        refused(edit(qwen25(), o -> { o.addProperty("use_sliding_window", true); o.add("layer_types", shortList); }), "layer_types", "24 entries");
        JsonArray chunked = types.deepCopy();
        chunked.set(5, new com.google.gson.JsonPrimitive("chunked_attention"));
        refused(edit(qwen25(), o -> { o.addProperty("use_sliding_window", true); o.add("layer_types", chunked); }), "layer_types[5]", "chunked_attention");
    }

    /** An absent max_position_embeddings means the config class's default (it sets the default --seqlen). */
    @Test
    public void absentMaxPositionsMeansTheFamilysDefault() throws Exception {
        assertEquals(parse(edit(llama31(), c -> c.remove("max_position_embeddings"))).maxSeqLen, 2048); // LlamaConfig
        assertEquals(parse(edit(mistral7b(), c -> c.remove("max_position_embeddings"))).maxSeqLen, 4096 * 32); // MistralConfig
        assertEquals(parse(edit(qwen25(), c -> c.remove("max_position_embeddings"))).maxSeqLen, 32768); // Qwen2Config
        assertEquals(parse(nemo()).maxSeqLen, 128000); // given: read as it is
    }

    @Test
    public void llamaHasNoWindow() {
        assertEquals(windows(parse(edit(llama31(), c -> c.addProperty("sliding_window", 64)))), filled(32, 0));
    }

    @Test
    public void windowsFollowTheOriginalLayerWhenBlocksAreCountedOff() {
        ModelConfig on = parse(edit(qwen25(), c -> { c.addProperty("use_sliding_window", true); c.addProperty("max_window_layers", 20); }));
        assertEquals(on.withLayers(22).slidingWindow(21), 32768);
        assertEquals(on.withLayers(22).slidingWindow(19), 0);
    }

    // ---- RoPE: transformers 4 and 5 layouts ----------------------------------------------------------

    @Test
    public void ropeParametersOfTransformers5AreRead() {
        for (JsonObject layout : new JsonObject[] {llama31(), llama31Transformers5()}) {
            ModelConfig c = parse(layout);
            assertEquals(c.ropeTheta, 500000.0);
            assertEquals(c.ropeScaling.factor, 8.0);
            assertEquals(c.ropeScaling.lowFreqFactor, 1.0);
            assertEquals(c.ropeScaling.highFreqFactor, 4.0);
            assertEquals(c.ropeScaling.originalMaxPositions, 8192);
        }
        assertEquals(parse(llama31Transformers5()).ropeInvFreq(), parse(llama31()).ropeInvFreq());
        // default rope type with its theta, e.g. Mistral-7B-v0.1 as transformers 5 writes it
        ModelConfig d = parse(edit(nemo(), c -> {
            JsonObject p = new JsonObject();
            p.addProperty("rope_theta", 1000000.0);
            p.addProperty("rope_type", "default");
            c.remove("rope_theta");
            c.add("rope_parameters", p);
        }));
        assertEquals(d.ropeTheta, 1000000.0);
        assertNull(d.ropeScaling);
        // rope_parameters without rope_theta takes the top-level one (transformers 5 fills it in the same way)
        assertEquals(parse(edit(llama31Transformers5(), c -> c.add("rope_theta", c.getAsJsonObject("rope_parameters").remove("rope_theta")))).ropeTheta,
                500000.0);
        // both layouts written out, agreeing: read
        assertEquals(parse(edit(llama31(), c -> c.add("rope_parameters", llama31Transformers5().get("rope_parameters")))).ropeScaling.factor, 8.0);
    }

    @Test
    public void unknownOrContradictoryRopeSettingsAreRefused() {
        refused(edit(llama31Transformers5(), c -> c.getAsJsonObject("rope_parameters").addProperty("rope_type", "yarn")),
                "rope_scaling type yarn is not supported");
        refused(edit(llama31(), c -> c.getAsJsonObject("rope_scaling").addProperty("rope_type", "dynamic")),
                "rope_scaling type dynamic is not supported");
        refused(edit(llama31Transformers5(), c -> c.addProperty("rope_theta", 10000.0)), "rope_parameters.rope_theta", "rope_theta is 10000");
        refused(edit(llama31Transformers5(), c -> {
            JsonObject s = new JsonObject();
            s.addProperty("rope_type", "linear");
            s.addProperty("factor", 2.0);
            c.add("rope_scaling", s);
        }), "rope_parameters.rope_type", "rope_scaling.rope_type");
        refused(edit(llama31Transformers5(), c -> { // transformers 4.3x wrote the scaling type as "type"
            JsonObject s = new JsonObject();
            s.addProperty("type", "dynamic");
            s.addProperty("factor", 8.0);
            c.add("rope_scaling", s);
        }), "rope_parameters.rope_type is \"llama3\" but rope_scaling.rope_type is \"dynamic\"");
        refused(edit(llama31(), c -> { // scaling in rope_scaling only, rope_parameters without it
            JsonObject p = new JsonObject();
            p.addProperty("rope_theta", 500000.0);
            c.add("rope_parameters", p);
        }), "rope_parameters.factor is absent but rope_scaling.factor is 8.0");
        refused(edit(llama31Transformers5(), c -> c.getAsJsonObject("rope_parameters").remove("rope_type")), "factor", "no rope_type");
        refused(edit(llama31Transformers5(), c -> c.getAsJsonObject("rope_parameters").addProperty("partial_rotary_factor", 0.5)),
                "partial_rotary_factor 0.5");
        refused(edit(llama31Transformers5(), c -> {
            JsonObject nested = new JsonObject();
            nested.add("full_attention", c.remove("rope_parameters"));
            c.add("rope_parameters", nested);
        }), "per-layer-type");
        refused(edit(llama31Transformers5(), c -> c.getAsJsonObject("rope_parameters").remove("low_freq_factor")), "low_freq_factor");
    }

    // ---- architectures against model_type -------------------------------------------------------------

    @Test
    public void architectureAndModelTypeMustNameOneFamily() throws Exception {
        refused(edit(llama31(), c -> c.addProperty("model_type", "gemma")), "LlamaForCausalLM", "model_type is gemma", "contradicts itself");
        refused(edit(mistral7b(), c -> c.addProperty("model_type", "llama")), "MistralForCausalLM", "model_type is llama");
        refused(edit(qwen25(), c -> c.addProperty("model_type", "mistral")), "Qwen2ForCausalLM", "model_type is mistral");
        assertEquals(parse(edit(mistral7b(), c -> c.remove("model_type"))).modelType, "mistral");
        assertEquals(parse(edit(qwen25(), c -> c.remove("architectures"))).architecture, "Qwen2ForCausalLM");
    }
}
