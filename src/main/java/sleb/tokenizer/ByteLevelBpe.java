package sleb.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE (GPT-2's, as OPT, RoBERTa and GGUF "gpt2" vocabularies use it) run by the Hugging Face tokenizers
 * library: a tokenizer.json document is assembled in memory from a vocabulary and a merge list, the way
 * transformers' GPT2TokenizerFast converts vocab.json + merges.txt (BPE model without unk, ByteLevel
 * pre-tokenizer and decoder, no prefix space), and handed to DJL through {@link HfJsonTokenizer}.
 *
 * <p>Entry points: {@link #fromFiles(Path)} for a Hugging Face vocab.json + merges.txt pair (OPT, GPT-2), and
 * {@link #create} for a vocabulary from elsewhere (e.g. a GGUF file's tokenizer.ggml.tokens/merges), with the
 * pre-tokenizer regex chosen by {@link Split}.
 */
public final class ByteLevelBpe {
    private ByteLevelBpe() {}

    /** How text is split into words before BPE. */
    public enum Split {
        /** GPT-2's regex ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+): ByteLevel with use_regex (GPT-2, OPT; llama.cpp pre "gpt-2"). */
        GPT2(null),
        /** LLaMA-3's regex (llama.cpp pre "llama-bpe"), as a Split pre-tokenizer before a regex-free ByteLevel. */
        LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

        /** The Split regex, or null where ByteLevel's own (GPT-2) regex splits. */
        public final String regex;

        Split(String regex) { this.regex = regex; }
    }

    /**
     * A byte-level BPE tokenizer.
     *
     * @param vocab token (in GPT-2's byte-to-unicode alphabet, "Ġthe") to id
     * @param merges merge rules in priority order, each "left right"
     * @param special tokens matched whole in text before BPE and skipped when decoding (e.g. "&lt;/s&gt;"); each must be in vocab
     * @param bosToken, eosToken the BOS and EOS tokens (null: none); {@code addBos}: whether a text starts with BOS
     * @param label names the source in errors and {@link Tokenizer#describe()}
     */
    public static Tokenizer create(Map<String, Integer> vocab, List<String> merges, Split split, Collection<String> special,
                                   String bosToken, String eosToken, boolean addBos, String label) throws IOException {
        JsonObject doc = document(vocab, merges, split, special);
        JsonObject config = new JsonObject();
        config.add("bos_token", bosToken == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(bosToken));
        config.add("eos_token", eosToken == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(eosToken));
        config.addProperty("add_bos_token", addBos);
        return fromDocument(doc, config, label);
    }

    /**
     * vocab.json and merges.txt in {@code dir} (or {@code dir} is the vocab.json), as facebook/opt-* and gpt2 ship them.
     * Special tokens, BOS and whether it is prepended come from tokenizer_config.json beside them; without one,
     * a vocabulary holding "&lt;/s&gt;" is taken as OPT's (bos = eos = "&lt;/s&gt;", prepended; "&lt;pad&gt;" special, as
     * facebook/opt-350m's tokenizer_config.json says), any other as GPT-2's (bos = eos = "&lt;|endoftext|&gt;", not prepended).
     */
    public static Tokenizer fromFiles(Path dirOrVocab) throws IOException {
        Path vocabFile = Files.isDirectory(dirOrVocab) ? dirOrVocab.resolve("vocab.json") : dirOrVocab;
        Path mergesFile = vocabFile.resolveSibling("merges.txt");
        if (!Files.isRegularFile(vocabFile)) throw new TokenizerException(vocabFile + " does not exist; a GPT-2 BPE tokenizer needs vocab.json and merges.txt");
        if (!Files.isRegularFile(mergesFile))
            throw new TokenizerException(mergesFile + " is missing beside " + vocabFile.getFileName() + "; a GPT-2 BPE tokenizer needs vocab.json and merges.txt together");
        JsonObject vocabJson = HfJsonTokenizer.readJson(vocabFile);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : vocabJson.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber() || v.getAsDouble() != Math.rint(v.getAsDouble()) || v.getAsDouble() < 0)
                throw new TokenizerException(vocabFile + ": the id of " + e.getKey() + " is " + v + ", not a non-negative integer; not a vocab.json, re-download it");
            vocab.put(e.getKey(), v.getAsInt());
        }
        List<String> merges = readMerges(mergesFile);
        JsonObject config = HfJsonTokenizer.tokenizerConfig(vocabFile);
        boolean opt = vocab.containsKey("</s>");
        String defaultBos = opt ? "</s>" : "<|endoftext|>";
        if (!config.has("bos_token")) config.addProperty("bos_token", defaultBos);
        if (!config.has("eos_token")) config.addProperty("eos_token", defaultBos);
        if (!config.has("add_bos_token") && !Files.isRegularFile(vocabFile.resolveSibling("tokenizer_config.json")))
            config.addProperty("add_bos_token", opt);
        List<String> special = new ArrayList<>();
        for (String key : new String[] {"bos_token", "eos_token", "unk_token", "pad_token"}) {
            String t = tokenText(config.get(key));
            if (t != null && vocab.containsKey(t) && !special.contains(t)) special.add(t);
        }
        if (opt && !config.has("pad_token") && vocab.containsKey("<pad>")) special.add("<pad>");
        JsonObject doc = document(vocab, merges, Split.GPT2, special);
        return fromDocument(doc, config, vocabFile + " + merges.txt");
    }

    private static String tokenText(JsonElement e) {
        if (e == null || e.isJsonNull()) return null;
        if (e.isJsonPrimitive()) return e.getAsString();
        if (e.isJsonObject() && e.getAsJsonObject().has("content")) return e.getAsJsonObject().get("content").getAsString();
        return null;
    }

    /** merges.txt: an optional "#version" line, then one "left right" pair per line. */
    static List<String> readMerges(Path file) throws IOException {
        List<String> merges = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (i == 0 && l.startsWith("#version")) continue;
            if (l.isEmpty()) continue;
            String[] parts = l.split(" ");
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty())
                throw new TokenizerException(file + " line " + (i + 1) + " is not a merge of two tokens (\"" + l + "\"); not a merges.txt, re-download it");
            merges.add(l);
        }
        return merges;
    }

    /** The tokenizer.json document: BPE model, ByteLevel pre-tokenizer (after a Split for non-GPT-2 regexes) and decoder. */
    static JsonObject document(Map<String, Integer> vocab, List<String> merges, Split split, Collection<String> special) {
        JsonObject doc = new JsonObject();
        doc.addProperty("version", "1.0");
        doc.add("truncation", JsonNull.INSTANCE);
        doc.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (String s : special) {
            Integer id = vocab.get(s);
            if (id == null) throw new TokenizerException("special token " + s + " is not in the vocabulary");
            JsonObject t = new JsonObject();
            t.addProperty("id", id);
            t.addProperty("content", s);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        doc.add("added_tokens", added);
        doc.add("normalizer", JsonNull.INSTANCE);
        if (split.regex == null) {
            doc.add("pre_tokenizer", byteLevel(true));
        } else {
            JsonObject seq = new JsonObject();
            seq.addProperty("type", "Sequence");
            JsonArray pres = new JsonArray();
            JsonObject sp = new JsonObject();
            sp.addProperty("type", "Split");
            JsonObject pattern = new JsonObject();
            pattern.addProperty("Regex", split.regex);
            sp.add("pattern", pattern);
            sp.addProperty("behavior", "Isolated");
            sp.addProperty("invert", false);
            pres.add(sp);
            pres.add(byteLevel(false));
            seq.add("pretokenizers", pres);
            doc.add("pre_tokenizer", seq);
        }
        doc.add("post_processor", JsonNull.INSTANCE);
        doc.add("decoder", byteLevel(true));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.addProperty("continuing_subword_prefix", "");
        model.addProperty("end_of_word_suffix", "");
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        // LLaMA-3: a word that is itself a token is emitted whole (transformers' tokenizer.json and llama.cpp's ignore_merges)
        if (split == Split.LLAMA3) model.addProperty("ignore_merges", true);
        JsonObject v = new JsonObject();
        for (Map.Entry<String, Integer> e : vocab.entrySet()) v.addProperty(e.getKey(), e.getValue());
        model.add("vocab", v);
        JsonArray m = new JsonArray();
        for (String s : merges) m.add(s);
        model.add("merges", m);
        doc.add("model", model);
        return doc;
    }

    private static JsonObject byteLevel(boolean useRegex) {
        JsonObject b = new JsonObject();
        b.addProperty("type", "ByteLevel");
        b.addProperty("add_prefix_space", false);
        b.addProperty("trim_offsets", true);
        b.addProperty("use_regex", useRegex);
        return b;
    }

    private static Tokenizer fromDocument(JsonObject doc, JsonObject config, String label) throws IOException {
        String text = doc.toString();
        return new HfJsonTokenizer(doc, config, label, "byte-level BPE " + label,
                options -> DjlLoader.load(label, text, options));
    }
}
