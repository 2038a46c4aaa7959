package sleb.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reads a Hugging Face config.json into a {@link ModelConfig} (LLaMA, Mistral, Qwen2 and OPT decoders). */
public final class HfConfig {
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "LlamaForCausalLM", "llama", "MistralForCausalLM", "mistral", "Qwen2ForCausalLM", "qwen2", "OPTForCausalLM", "opt");

    private HfConfig() {}

    public static ModelConfig read(Path configFile) throws IOException {
        if (!Files.isRegularFile(configFile))
            throw new ModelFormatException(configFile + " is missing; a Hugging Face model directory needs config.json next to its safetensors");
        JsonObject c;
        try {
            c = StrictJson.parseObject(Files.readString(configFile, StandardCharsets.UTF_8));
        } catch (JsonParseException ex) {
            throw new ModelFormatException(configFile + " is not valid JSON (" + StrictJson.reason(ex) + "); fix or re-download it");
        }
        return parse(c, configFile);
    }

    /** Parses config.json text that did not come from a file of its own (e.g. a jar resource); {@code label} names it in errors. */
    public static ModelConfig parse(String json, Path label) {
        JsonObject c;
        try {
            c = StrictJson.parseObject(json);
        } catch (JsonParseException ex) {
            throw new ModelFormatException(label + " is not valid JSON (" + StrictJson.reason(ex) + "); fix it");
        }
        return parse(c, label);
    }

    /** The config class's default max_position_embeddings: LlamaConfig 2048, MistralConfig 4096 * 32, Qwen2Config 32768. */
    static int defaultMaxPositions(String modelType) {
        switch (modelType) {
            case "mistral": return 131072;
            case "qwen2": return 32768;
            default: return 2048;
        }
    }

    static ModelConfig parse(JsonObject c, Path file) {
        String arch = null;
        JsonElement archs = get(c, "architectures");
        if (archs != null && archs.isJsonArray() && archs.getAsJsonArray().size() > 0) arch = archs.getAsJsonArray().get(0).toString().replace("\"", "");
        String modelType = str(c, "model_type", null, file);
        if (arch == null && modelType != null)
            for (Map.Entry<String, String> a : ARCHITECTURES.entrySet()) if (a.getValue().equals(modelType)) arch = a.getKey();
        if (arch == null || !ARCHITECTURES.containsKey(arch))
            throw new ModelFormatException("unsupported architecture " + (arch != null ? arch : modelType) + " in " + file
                    + "; SLEB-J supports LLaMA, Mistral, Qwen2 and OPT decoders");
        String family = ARCHITECTURES.get(arch);
        if (modelType == null) modelType = family;
        if (!modelType.equals(family))
            throw new ModelFormatException(file + ": architectures names " + arch + " (model_type " + family + ") but model_type is " + modelType
                    + "; the config contradicts itself, fix one of the two or re-download config.json");
        if (family.equals("opt")) return parseOpt(c, arch, file);
        String act = str(c, "hidden_act", "silu", file);
        if (!act.equals("silu") && !act.equals("swish"))
            throw new ModelFormatException(file + ": hidden_act " + act + " is not supported; SLEB-J implements SwiGLU (silu) MLPs only");
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        if (!qwen && (bool(c, "attention_bias", false, file) || bool(c, "mlp_bias", false, file)))
            throw new ModelFormatException(file + ": attention_bias/mlp_bias is set; SLEB-J supports biases only on Qwen2 q/k/v projections");

        int dim = intReq(c, "hidden_size", file);
        int hidden = intReq(c, "intermediate_size", file);
        int layers = intReq(c, "num_hidden_layers", file);
        int heads = intReq(c, "num_attention_heads", file);
        int kvHeads = intOpt(c, "num_key_value_heads", heads, file);
        if (heads <= 0) throw new ModelFormatException(file + ": num_attention_heads must be positive");
        int headDim = intOpt(c, "head_dim", dim / heads, file);
        int vocab = intReq(c, "vocab_size", file);
        int maxPos = intOpt(c, "max_position_embeddings", defaultMaxPositions(modelType), file);
        float eps = (float) num(c, "rms_norm_eps", 1e-6, file);
        boolean tied = bool(c, "tie_word_embeddings", false, file);
        int bos = intOpt(c, "bos_token_id", 1, file);
        int eos = firstInt(c, "eos_token_id", 2, file);
        JsonObject rope = ropeParameters(c, file);
        double theta = num(rope, "rope_theta", 10000.0, file);
        return new ModelConfig(arch, modelType, dim, hidden, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta,
                RopeStyle.HALF, tied, qwen, ropeScaling(rope, file), bos, eos, SlidingWindows.of(c, modelType, layers, file));
    }

    /**
     * An OPT config (transformers' OPTConfig; defaults are OPTConfig's where a key is optional). Keys that would
     * change the math in ways SLEB-J does not implement are refused, one line naming the key.
     */
    private static ModelConfig parseOpt(JsonObject c, String arch, Path file) {
        String act = str(c, "activation_function", "relu", file);
        if (!act.equals("relu"))
            throw new ModelFormatException(file + ": activation_function " + act + " is not supported for OPT; SLEB-J implements the ReLU MLP every OPT checkpoint uses");
        if (!bool(c, "enable_bias", true, file))
            throw new ModelFormatException(file + ": enable_bias false is not supported; SLEB-J's OPT block has biases on every projection and LayerNorm, as OPT checkpoints do");
        if (!bool(c, "layer_norm_elementwise_affine", true, file))
            throw new ModelFormatException(file + ": layer_norm_elementwise_affine false is not supported; SLEB-J's OPT LayerNorms have a weight and a bias, as OPT checkpoints do");
        int dim = intReq(c, "hidden_size", file);
        int ffn = intReq(c, "ffn_dim", file);
        int layers = intReq(c, "num_hidden_layers", file);
        int heads = intReq(c, "num_attention_heads", file);
        if (heads <= 0 || dim % heads != 0)
            throw new ModelFormatException(file + ": hidden_size " + dim + " is not divisible by num_attention_heads " + heads + "; fix config.json");
        int vocab = intReq(c, "vocab_size", file);
        int maxPos = intOpt(c, "max_position_embeddings", 2048, file);
        boolean before = bool(c, "do_layer_norm_before", true, file);
        boolean finalNorm = before && !bool(c, "_remove_final_layer_norm", false, file);
        int proj = intOpt(c, "word_embed_proj_dim", dim, file);
        boolean tied = bool(c, "tie_word_embeddings", true, file);
        int bos = intOpt(c, "bos_token_id", 2, file);
        int eos = firstInt(c, "eos_token_id", 2, file);
        OptLayout opt = new OptLayout(before, finalNorm, proj, proj != dim);
        return new ModelConfig(arch, "opt", dim, ffn, layers, heads, heads, dim / heads, vocab, maxPos, 1e-5f, 10000.0,
                RopeStyle.HALF, tied, false, null, bos, eos, null, opt);
    }

    /**
     * The RoPE settings in one object, from either layout: transformers 4's top-level {@code rope_theta} plus
     * {@code rope_scaling}, or transformers 5's {@code rope_parameters} (theta, type and scaling fields together).
     * Where both layouts are present they must agree; a top-level rope_theta fills in one that rope_parameters
     * lacks, as transformers 5 does.
     */
    private static JsonObject ropeParameters(JsonObject c, Path file) {
        JsonObject legacy = new JsonObject();
        JsonElement scaling = get(c, "rope_scaling");
        if (scaling != null) {
            if (!scaling.isJsonObject()) throw new ModelFormatException(file + ": rope_scaling must be an object or null");
            for (Map.Entry<String, JsonElement> e : scaling.getAsJsonObject().entrySet())
                legacy.add(e.getKey().equals("type") && !scaling.getAsJsonObject().has("rope_type") ? "rope_type" : e.getKey(), e.getValue());
        }
        for (String k : new String[] {"rope_theta", "partial_rotary_factor"}) if (get(c, k) != null) legacy.add(k, c.get(k));
        JsonElement p = get(c, "rope_parameters");
        if (p == null) return legacy;
        if (!p.isJsonObject()) throw new ModelFormatException(file + ": rope_parameters must be an object or null");
        JsonObject params = p.getAsJsonObject().deepCopy();
        for (Map.Entry<String, JsonElement> e : params.entrySet())
            if (e.getValue().isJsonObject())
                throw new ModelFormatException(file + ": rope_parameters holds per-layer-type settings (" + e.getKey()
                        + "); SLEB-J supports one RoPE setting for all layers");
        for (Map.Entry<String, JsonElement> e : legacy.entrySet()) {
            boolean topLevel = e.getKey().equals("rope_theta") || e.getKey().equals("partial_rotary_factor");
            String where = topLevel ? "the top-level " + e.getKey() : "rope_scaling." + e.getKey();
            JsonElement q = get(params, e.getKey());
            if (q == null && topLevel) params.add(e.getKey(), e.getValue());
            else if (q == null || !sameValue(q, e.getValue()))
                throw new ModelFormatException(file + ": rope_parameters." + e.getKey() + " is " + (q == null ? "absent" : q) + " but " + where
                        + " is " + e.getValue() + "; the config holds two different RoPE settings, keep one of the two");
        }
        return params;
    }

    private static boolean sameValue(JsonElement a, JsonElement b) {
        if (a.isJsonPrimitive() && b.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber() && b.getAsJsonPrimitive().isNumber())
            return a.getAsDouble() == b.getAsDouble();
        return a.equals(b);
    }

    /** llama3 scaling from the RoPE settings, null for the default (unscaled) RoPE; any other type is refused. */
    private static ModelConfig.Llama3RopeScaling ropeScaling(JsonObject s, Path file) {
        if (get(s, "partial_rotary_factor") != null && num(s, "partial_rotary_factor", 1, file) != 1)
            throw new ModelFormatException(file + ": partial_rotary_factor " + s.get("partial_rotary_factor")
                    + " is not supported; SLEB-J rotates the whole head (LLaMA, Mistral and Qwen2 do)");
        String type = str(s, "rope_type", null, file);
        if (type == null) type = str(s, "type", null, file);
        if (type == null || "default".equals(type)) {
            for (String k : new String[] {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
                if (get(s, k) != null)
                    throw new ModelFormatException(file + ": the RoPE settings have " + k + " but no rope_type; name the scaling type (e.g. llama3) or remove it");
            return null;
        }
        if (!"llama3".equals(type))
            throw new ModelFormatException(file + ": rope_scaling type " + type + " is not supported; SLEB-J supports only llama3 rope scaling (or none)");
        return new ModelConfig.Llama3RopeScaling(numReq(s, "factor", file), numReq(s, "low_freq_factor", file),
                numReq(s, "high_freq_factor", file), intReq(s, "original_max_position_embeddings", file));
    }

    /** The field, or null when absent or JSON null. */
    static JsonElement get(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    static ModelFormatException bad(Path file, String key, JsonElement e, String want) {
        return new ModelFormatException(file + ": " + key + " is " + e + ", expected " + want + "; fix config.json");
    }

    private static int intReq(JsonObject o, String key, Path file) {
        if (get(o, key) == null) throw new ModelFormatException(file + " lacks " + key + "; the config is incomplete, re-download it");
        return intOpt(o, key, 0, file);
    }

    static int intOpt(JsonObject o, String key, int def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw bad(file, key, e, "an integer");
        double d = e.getAsDouble();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) throw bad(file, key, e, "an integer");
        return (int) d;
    }

    private static int firstInt(JsonObject o, String key, int def, Path file) {
        JsonElement e = get(o, key);
        if (e != null && e.isJsonArray()) {
            if (e.getAsJsonArray().size() == 0) return def;
            JsonObject one = new JsonObject();
            one.add(key, e.getAsJsonArray().get(0));
            return intOpt(one, key, def, file);
        }
        return intOpt(o, key, def, file);
    }

    private static double numReq(JsonObject o, String key, Path file) {
        if (get(o, key) == null) throw new ModelFormatException(file + " lacks " + key + "; the config is incomplete, re-download it");
        return num(o, key, 0, file);
    }

    private static double num(JsonObject o, String key, double def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw bad(file, key, e, "a number");
        return e.getAsDouble();
    }

    static boolean bool(JsonObject o, String key, boolean def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) throw bad(file, key, e, "true or false");
        return e.getAsBoolean();
    }

    static String str(JsonObject o, String key, String def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) throw bad(file, key, e, "a string");
        return e.getAsString();
    }
}
