package sleb.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.model.GgufFile;
import sleb.model.GgufValue;

/**
 * A tokenizer as GGUF metadata holds it (llama.cpp's llama-vocab.cpp and gguf-py's constants): tokenizer.ggml.model
 * "llama" (SentencePiece-style: tokens with U+2581 for spaces, scores, token_type) or "gpt2" (byte-level BPE: tokens in
 * GPT-2's byte-to-unicode alphabet, merges "a b" in priority order, tokenizer.ggml.pre naming the pre-tokenizer),
 * bos/eos/unknown token ids, add_bos_token, add_space_prefix. Read from a GGUF file, made from the tokenizers SLEB-J
 * reads (to embed in an export), written back as metadata, and turned into a {@link Tokenizer}.
 */
public final class GgufVocab {
    /** llama.cpp's token types (llama_token_type), the same numbers as SentencePiece's piece types. */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    private static final String K = "tokenizer.ggml.";

    public final String model;
    /** tokenizer.ggml.pre for "gpt2" (e.g. "default", "llama-bpe"); null for "llama". */
    public final String pre;
    public final String[] tokens;
    public final float[] scores;
    public final int[] types;
    /** "gpt2" merges, "left right" in priority order; null for "llama". */
    public final String[] merges;
    public final int bos, eos, unk;
    public final boolean addBos;
    public final boolean addSpacePrefix;
    private final String source;

    public GgufVocab(String model, String pre, String[] tokens, float[] scores, int[] types, String[] merges, int bos, int eos, int unk,
                     boolean addBos, boolean addSpacePrefix, String source) {
        this.model = model;
        this.pre = pre;
        this.tokens = tokens;
        this.scores = scores;
        this.types = types;
        this.merges = merges;
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addBos = addBos;
        this.addSpacePrefix = addSpacePrefix;
        this.source = source;
    }

    /** The vocabulary in a GGUF file's metadata; refused with one line when absent or of an unsupported kind. */
    public static GgufVocab read(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return read(g);
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + ": " + e.getMessage());
        } catch (sleb.model.ModelFormatException e) {
            throw new TokenizerException(e.getMessage());
        }
    }

    public static GgufVocab read(GgufFile g) {
        Path file = g.path();
        String model = g.string(K + "model");
        if (model == null || model.equals("none") || model.equals("no_vocab"))
            throw new TokenizerException(file + " holds no tokenizer (tokenizer.ggml.model " + (model == null ? "absent" : "'" + model + "'") + "); pass --tokenizer");
        if (!model.equals("llama") && !model.equals("gpt2"))
            throw new TokenizerException(file + ": tokenizer.ggml.model '" + model + "' is not supported; SLEB-J reads 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) vocabularies");
        List<Object> toks = g.array(K + "tokens", "STRING");
        if (toks == null || toks.isEmpty()) throw new TokenizerException(file + " lacks tokenizer.ggml.tokens; the vocabulary is incomplete");
        int n = toks.size();
        String[] tokens = toks.toArray(new String[0]);
        float[] scores = new float[n];
        List<Object> sc = g.array(K + "scores", "float");
        if (sc != null) {
            if (sc.size() != n) throw new TokenizerException(file + ": " + sc.size() + " tokenizer.ggml.scores for " + n + " tokens; the file is corrupt");
            for (int i = 0; i < n; i++) scores[i] = ((Double) sc.get(i)).floatValue();
        } else if (model.equals("llama")) {
            throw new TokenizerException(file + " lacks tokenizer.ggml.scores, which a 'llama' vocabulary needs; the file is incomplete");
        }
        int[] types = new int[n];
        Arrays.fill(types, NORMAL);
        List<Object> ty = g.array(K + "token_type", "integer");
        if (ty != null) {
            if (ty.size() != n) throw new TokenizerException(file + ": " + ty.size() + " tokenizer.ggml.token_type for " + n + " tokens; the file is corrupt");
            for (int i = 0; i < n; i++) types[i] = ((Long) ty.get(i)).intValue();
        }
        String[] merges = null;
        String pre = null;
        if (model.equals("gpt2")) {
            List<Object> m = g.array(K + "merges", "STRING");
            if (m == null) throw new TokenizerException(file + " lacks tokenizer.ggml.merges, which a 'gpt2' vocabulary needs; the file is incomplete");
            merges = m.toArray(new String[0]);
            pre = g.string(K + "pre");
            if (pre == null) pre = "default";
            ByteLevelPreTokenizer.check(pre, file);
        }
        boolean spm = model.equals("llama");
        int bos = id(g, K + "bos_token_id", spm ? 1 : 11, n);
        int eos = id(g, K + "eos_token_id", spm ? 2 : 11, n);
        int unk = id(g, K + "unknown_token_id", spm ? 0 : -1, n);
        Boolean addBos = g.bool(K + "add_bos_token");
        Boolean addSpace = g.bool(K + "add_space_prefix");
        // llama.cpp's defaults when the key is absent: BOS for SPM and for LLaMA-3's pre-tokenizer, none for other BPE
        boolean bosByDefault = spm || ByteLevelPreTokenizer.LLAMA3.contains(pre);
        return new GgufVocab(model, pre, tokens, scores, types, merges, bos, eos, unk, addBos == null ? bosByDefault : addBos,
                addSpace == null ? spm : addSpace, file.getFileName().toString());
    }

    private static int id(GgufFile g, String key, int dflt, int n) {
        long v = g.integer(key, dflt);
        if (v == 0xffffffffL || v == -1) return -1; // LLAMA_TOKEN_NULL written as uint32
        if (v < 0 || v >= n) throw new TokenizerException(g.path() + ": " + key + " " + v + " is outside the " + n + "-token vocabulary; the file is corrupt");
        return (int) v;
    }

    /** A {@link Tokenizer} encoding as llama.cpp does with this vocabulary. */
    public Tokenizer tokenizer() {
        String describe = "GGUF " + model + " vocabulary " + source + " (" + tokens.length + " tokens" + (pre != null ? ", pre " + pre : "") + ")";
        if (model.equals("llama"))
            return SentencePieceTokenizer.fromVocabulary(tokens, scores, types, Math.max(unk, 0), bos, eos, addBos, addSpacePrefix, describe);
        Map<String, Integer> vocab = new LinkedHashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) vocab.putIfAbsent(tokens[i], i);
        ByteLevelBpe.Split split = ByteLevelPreTokenizer.LLAMA3.contains(pre) ? ByteLevelBpe.Split.LLAMA3 : ByteLevelBpe.Split.GPT2;
        try {
            // No special tokens: llama.cpp's perplexity and tokenize (parse_special off) read "<|eot_id|>" in a text as text.
            return ByteLevelBpe.create(vocab, Arrays.asList(merges), split, List.of(), bos >= 0 ? tokens[bos] : null,
                    eos >= 0 ? tokens[eos] : null, addBos, describe);
        } catch (IOException e) {
            throw new TokenizerException("cannot build the byte-level BPE of " + source + ": " + e.getMessage());
        }
    }

    /** Writes the tokenizer.ggml.* keys into metadata. */
    public void putMetadata(Map<String, GgufValue> meta) {
        meta.put(K + "model", GgufValue.str(model));
        if (pre != null) meta.put(K + "pre", GgufValue.str(pre));
        meta.put(K + "tokens", GgufValue.array(GgufValue.STRING, Arrays.asList(tokens)));
        if (model.equals("llama")) {
            List<Object> s = new ArrayList<>(scores.length);
            for (float f : scores) s.add((double) f);
            meta.put(K + "scores", GgufValue.array(GgufValue.FLOAT32, s));
        }
        List<Object> t = new ArrayList<>(types.length);
        for (int x : types) t.add((long) x);
        meta.put(K + "token_type", GgufValue.array(GgufValue.INT32, t));
        if (merges != null) meta.put(K + "merges", GgufValue.array(GgufValue.STRING, Arrays.asList(merges)));
        if (bos >= 0) meta.put(K + "bos_token_id", GgufValue.u32(bos));
        if (eos >= 0) meta.put(K + "eos_token_id", GgufValue.u32(eos));
        if (unk >= 0) meta.put(K + "unknown_token_id", GgufValue.u32(unk));
        meta.put(K + "add_bos_token", GgufValue.bool(addBos));
        if (model.equals("llama")) meta.put(K + "add_space_prefix", GgufValue.bool(addSpacePrefix));
    }

    /**
     * The vocabulary of a tokenizer SLEB-J reads, for embedding in a GGUF export: a SentencePiece tokenizer.model and
     * a llama2.c tokenizer.bin become "llama" (the latter as llama.cpp's convert-llama2c-to-ggml converts it), Meta's
     * LLaMA-3 tiktoken file becomes "gpt2" with pre "llama-bpe" and the merges its ranks imply (as transformers'
     * TikTokenConverter derives them). Others are refused with one line.
     */
    public static GgufVocab of(Tokenizer t, Path file) {
        if (t instanceof SentencePieceTokenizer) return ofSentencePiece((SentencePieceTokenizer) t, file);
        if (t instanceof Llama2cTokenizer) return ofLlama2c((Llama2cTokenizer) t, file);
        if (t instanceof TiktokenTokenizer) return ofTiktoken((TiktokenTokenizer) t, file);
        throw new TokenizerException(t.describe() + " cannot be embedded in a GGUF file (SLEB-J embeds SentencePiece tokenizer.model, llama2.c"
                + " tokenizer.bin, LLaMA-3 tiktoken tokenizer.model and GGUF vocabularies); pass one of those with --tokenizer");
    }

    private static GgufVocab ofSentencePiece(SentencePieceTokenizer t, Path file) {
        if (t.removesExtraWhitespaces())
            throw new TokenizerException(file + " removes extra whitespace (SentencePiece remove_extra_whitespaces), which llama.cpp's tokenizer never"
                    + " does, so a GGUF file would tokenize differently; not embedded");
        int n = t.vocabSize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = t.piece(i);
            scores[i] = t.score(i);
            types[i] = t.type(i);
        }
        return new GgufVocab("llama", null, tokens, scores, types, null, t.bosId(), t.eosId(), t.unkId(), t.addsBosByDefault(),
                t.addsSpacePrefix(), file.getFileName().toString());
    }

    private static GgufVocab ofLlama2c(Llama2cTokenizer t, Path file) {
        int n = t.vocabSize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            String text = new String(t.piece(i).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            int type;
            if (i == 0) { text = "<unk>"; type = UNKNOWN; }
            else if (i == 1) { text = "<s>"; type = CONTROL; }
            else if (i == 2) { text = "</s>"; type = CONTROL; }
            else if (text.isEmpty()) type = CONTROL;
            else if (text.matches("<0x[0-9A-Fa-f]{2}>.*")) type = BYTE; // the converter's sscanf("<0x%02hhX>") prefix test
            else type = NORMAL;
            tokens[i] = text.replace(' ', '\u2581');
            scores[i] = t.score(i);
            types[i] = type;
        }
        return new GgufVocab("llama", null, tokens, scores, types, null, 1, 2, 0, true, true, file.getFileName().toString());
    }

    private static GgufVocab ofTiktoken(TiktokenTokenizer t, Path file) {
        int ranks = t.rankCount(), n = t.vocabSize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        Map<String, Integer> rankOf = new HashMap<>(ranks * 2);
        byte[][] bytes = new byte[ranks][];
        for (int r = 0; r < ranks; r++) {
            bytes[r] = t.tokenBytes(r);
            String k = new String(bytes[r], StandardCharsets.ISO_8859_1);
            rankOf.putIfAbsent(k, r);
            tokens[r] = ByteLevelPreTokenizer.toUnicode(bytes[r]);
            types[r] = NORMAL;
        }
        for (int i = ranks; i < n; i++) {
            tokens[i] = t.special(i);
            types[i] = CONTROL;
        }
        List<String> merges = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            String k = new String(bytes[r], StandardCharsets.ISO_8859_1);
            if (k.length() < 2) continue;
            List<int[]> local = new ArrayList<>();
            for (int s = 1; s < k.length(); s++) {
                Integer a = rankOf.get(k.substring(0, s)), b = rankOf.get(k.substring(s));
                if (a != null && b != null) local.add(new int[] {a, b});
            }
            local.sort((x, y) -> x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]));
            for (int[] p : local) merges.add(tokens[p[0]] + " " + tokens[p[1]]);
        }
        return new GgufVocab("gpt2", "llama-bpe", tokens, scores, types, merges.toArray(new String[0]), t.bosId(), t.eosId(), -1,
                true, false, file.getFileName().toString());
    }

    /** The vocabulary a tokenizer file holds for embedding: a .gguf file's own, else {@link #of} the loaded tokenizer. */
    public static GgufVocab forExport(Path tokenizerFile, int modelVocabSize) {
        if (isGguf(tokenizerFile)) return read(tokenizerFile);
        Path f = java.nio.file.Files.isDirectory(tokenizerFile) ? Tokenizers.findBeside(tokenizerFile) : tokenizerFile;
        if (f == null) throw new TokenizerException("no tokenizer in " + tokenizerFile);
        return of(Tokenizers.load(f, modelVocabSize), f);
    }

    static boolean isGguf(Path p) {
        return !java.nio.file.Files.isDirectory(p) && (p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf") || GgufFile.looksLikeGguf(p));
    }

    /** Keys of {@link #putMetadata} in a stable order, for tests. */
    public Map<String, GgufValue> metadata() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        putMetadata(m);
        return m;
    }
}
