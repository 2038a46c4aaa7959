package sleb.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer.json, encoded and decoded by the Rust tokenizers library through DJL's binding.
 * BOS/EOS and whether BOS is added come from tokenizer_config.json beside it when present, else from the
 * tokenizer.json post_processor; encode() itself never adds special tokens.
 */
public final class HfJsonTokenizer implements Tokenizer {
    private final HuggingFaceTokenizer hf;
    private final int vocabSize, bos, eos;
    private final boolean addsBos;
    private final Set<Integer> specialIds = new HashSet<>();
    private final String describe;

    public HfJsonTokenizer(Path json) throws IOException {
        this(readJson(json), tokenizerConfig(json), json.toString(), "Hugging Face tokenizer.json " + json.getFileName(),
                options -> DjlLoader.load(json, options));
    }

    /** tokenizer_config.json beside {@code file}, or an empty object when there is none. */
    static JsonObject tokenizerConfig(Path file) throws IOException {
        Path configFile = file.resolveSibling("tokenizer_config.json");
        return Files.isRegularFile(configFile) ? readJson(configFile) : new JsonObject();
    }

    /** How the Rust tokenizer is made: from a file, or from a document assembled in memory ({@link ByteLevelBpe}). */
    interface Loader {
        HuggingFaceTokenizer load(Map<String, String> options) throws IOException;
    }

    /**
     * A tokenizer.json document {@code root} already parsed, with the tokenizer_config.json object {@code config}
     * (empty when absent); {@code label} names the source in errors, {@code kind} starts {@link #describe()}.
     */
    HfJsonTokenizer(JsonObject root, JsonObject config, String label, String kind, Loader loader) throws IOException {
        JsonObject model = root.has("model") && root.get("model").isJsonObject() ? root.getAsJsonObject("model") : null;
        if (model == null || !model.has("vocab") || !model.get("vocab").isJsonObject())
            throw new TokenizerException(label + " has no model.vocab object; not a Hugging Face tokenizer.json");
        Map<String, Integer> ids = new HashMap<>();
        int max = -1;
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet()) {
            ids.put(e.getKey(), e.getValue().getAsInt());
            max = Math.max(max, e.getValue().getAsInt());
        }
        if (root.has("added_tokens") && root.get("added_tokens").isJsonArray()) {
            for (JsonElement e : root.getAsJsonArray("added_tokens")) {
                JsonObject t = e.getAsJsonObject();
                int id = t.get("id").getAsInt();
                ids.put(t.get("content").getAsString(), id);
                if (t.has("special") && t.get("special").getAsBoolean()) specialIds.add(id);
                max = Math.max(max, id);
            }
        }
        vocabSize = max + 1;

        String templateBos = templateBos(root.get("post_processor"));
        String bosText = tokenText(config.get("bos_token"));
        boolean bosNull = config.has("bos_token") && config.get("bos_token").isJsonNull(); // transformers: no BOS (Qwen2)
        if (bosText == null) bosText = templateBos != null ? templateBos : bosNull ? null : firstPresent(ids, "<s>", "<|begin_of_text|>");
        String eosText = tokenText(config.get("eos_token"));
        if (eosText == null) eosText = firstPresent(ids, "</s>", "<|end_of_text|>");
        bos = bosText != null && ids.containsKey(bosText) ? ids.get(bosText) : -1;
        eos = eosText != null && ids.containsKey(eosText) ? ids.get(eosText) : -1;
        if (config.has("add_bos_token") && config.get("add_bos_token").isJsonPrimitive())
            addsBos = config.get("add_bos_token").getAsBoolean();
        else
            addsBos = templateBos != null && templateBos.equals(bosText);

        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        hf = loader.load(options);
        describe = kind + " (" + vocabSize + " tokens, " + modelType(model) + ")";
    }

    private static String modelType(JsonObject model) {
        return model.has("type") ? model.get("type").getAsString() : "BPE";
    }

    static JsonObject readJson(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) throw new TokenizerException(file + " is not a JSON object; not a Hugging Face tokenizer file");
            return e.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new TokenizerException(file + " is not valid JSON (truncated or corrupt): " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** bos_token/eos_token in tokenizer_config.json: a string or an AddedToken object with "content". */
    private static String tokenText(JsonElement e) {
        if (e == null || e.isJsonNull()) return null;
        if (e.isJsonPrimitive()) return e.getAsString();
        if (e.isJsonObject() && e.getAsJsonObject().has("content")) return e.getAsJsonObject().get("content").getAsString();
        return null;
    }

    private static String firstPresent(Map<String, Integer> ids, String... names) {
        for (String n : names) if (ids.containsKey(n)) return n;
        return null;
    }

    /** The special token a TemplateProcessing post_processor puts before the text ("single": [SpecialToken, Sequence A]), or null. */
    private static String templateBos(JsonElement pp) {
        if (pp == null || !pp.isJsonObject()) return null;
        JsonObject o = pp.getAsJsonObject();
        String type = o.has("type") ? o.get("type").getAsString() : "";
        if (type.equals("Sequence") && o.has("processors")) {
            for (JsonElement p : o.getAsJsonArray("processors")) {
                String b = templateBos(p);
                if (b != null) return b;
            }
            return null;
        }
        if (!type.equals("TemplateProcessing") || !o.has("single")) return null;
        JsonArray single = o.getAsJsonArray("single");
        if (single.isEmpty() || !single.get(0).isJsonObject()) return null;
        JsonObject first = single.get(0).getAsJsonObject();
        return first.has("SpecialToken") ? first.getAsJsonObject("SpecialToken").get("id").getAsString() : null;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = hf.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    @Override
    public String decode(int previous, int token) {
        String alone = hf.decode(new long[] {token}, true);
        if (previous < 0 || previous == bos || specialIds.contains(previous)) return alone;
        // Decoders such as LLaMA-2's Strip drop a leading space at the start of a text only: decode the pair and take the tail.
        String head = hf.decode(new long[] {previous}, true);
        String both = hf.decode(new long[] {previous, token}, true);
        return both.startsWith(head) ? both.substring(head.length()) : alone;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, true);
    }

    @Override public int vocabSize() { return vocabSize; }
    @Override public int bosId() { return bos; }
    @Override public int eosId() { return eos; }
    @Override public boolean addsBosByDefault() { return addsBos && bos >= 0; }
    @Override public String describe() { return describe; }
}
