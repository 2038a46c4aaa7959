package sleb.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reads a Hugging Face config.json into a {@link ModelConfig} (LLaMA, Mistral, Qwen2 decoders). */
public final class HfConfig {
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "LlamaForCausalLM", "llama", "MistralForCausalLM", "mistral", "Qwen2ForCausalLM", "qwen2");

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

    static ModelConfig parse(JsonObject c, Path file) {
        String arch = null;
        JsonElement archs = get(c, "architectures");
        if (archs != null && archs.isJsonArray() && archs.getAsJsonArray().size() > 0) arch = archs.getAsJsonArray().get(0).toString().replace("\"", "");
        String modelType = str(c, "model_type", null, file);
        if (arch == null && modelType != null)
            for (Map.Entry<String, String> a : ARCHITECTURES.entrySet()) if (a.getValue().equals(modelType)) arch = a.getKey();
        if (arch == null || !ARCHITECTURES.containsKey(arch))
            throw new ModelFormatException("unsupported architecture " + (arch != null ? arch : modelType) + " in " + file
                    + "; SLEB-J supports LLaMA, Mistral and Qwen2 decoders");
        if (modelType == null) modelType = ARCHITECTURES.get(arch);
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
        int maxPos = intOpt(c, "max_position_embeddings", 2048, file);
        float eps = (float) num(c, "rms_norm_eps", 1e-6, file);
        double theta = num(c, "rope_theta", 10000.0, file);
        boolean tied = bool(c, "tie_word_embeddings", false, file);
        int bos = intOpt(c, "bos_token_id", 1, file);
        int eos = firstInt(c, "eos_token_id", 2, file);
        return new ModelConfig(arch, modelType, dim, hidden, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta,
                RopeStyle.HALF, tied, qwen, ropeScaling(c, file), bos, eos);
    }

    private static ModelConfig.Llama3RopeScaling ropeScaling(JsonObject c, Path file) {
        JsonElement e = get(c, "rope_scaling");
        if (e == null) return null;
        if (!e.isJsonObject()) throw new ModelFormatException(file + ": rope_scaling must be an object or null");
        JsonObject s = e.getAsJsonObject();
        String type = str(s, "rope_type", null, file);
        if (type == null) type = str(s, "type", null, file);
        if ("default".equals(type)) return null;
        if (!"llama3".equals(type))
            throw new ModelFormatException(file + ": rope_scaling type " + type + " is not supported; SLEB-J supports only llama3 rope scaling (or none)");
        return new ModelConfig.Llama3RopeScaling(numReq(s, "factor", file), numReq(s, "low_freq_factor", file),
                numReq(s, "high_freq_factor", file), intReq(s, "original_max_position_embeddings", file));
    }

    /** The field, or null when absent or JSON null. */
    private static JsonElement get(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    private static ModelFormatException bad(Path file, String key, JsonElement e, String want) {
        return new ModelFormatException(file + ": " + key + " is " + e + ", expected " + want + "; fix config.json");
    }

    private static int intReq(JsonObject o, String key, Path file) {
        if (get(o, key) == null) throw new ModelFormatException(file + " lacks " + key + "; the config is incomplete, re-download it");
        return intOpt(o, key, 0, file);
    }

    private static int intOpt(JsonObject o, String key, int def, Path file) {
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

    private static boolean bool(JsonObject o, String key, boolean def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) throw bad(file, key, e, "true or false");
        return e.getAsBoolean();
    }

    private static String str(JsonObject o, String key, String def, Path file) {
        JsonElement e = get(o, key);
        if (e == null) return def;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) throw bad(file, key, e, "a string");
        return e.getAsString();
    }
}
