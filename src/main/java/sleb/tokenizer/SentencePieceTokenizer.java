package sleb.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece BPE model (tokenizer.model, a ModelProto protobuf) with SentencePiece's own encoding:
 * spaces become U+2581, a U+2581 is prepended (add_dummy_prefix), the text is split into code points,
 * each known character becomes its piece and an unknown one becomes its UTF-8 byte pieces (byte_fallback)
 * or UNK, then adjacent pairs merge by the score of the merged piece, leftmost first among equals.
 * The whole text is one sequence, as in SentencePiece (no pre-splitting).
 */
public final class SentencePieceTokenizer implements Tokenizer {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    private static final char SPACE = '\u2581';

    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<Integer, Integer> charId = new HashMap<>();
    private final Map<String, Integer> userDefined = new HashMap<>();
    private int maxUserDefinedLength;
    private final int[] byteId = new int[256];
    private final ScoredBpe bpe;
    private final int unkId, bosId, eosId;
    private final boolean byteFallback;
    private final boolean addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces;
    private final boolean addsBos;
    private final String describe;

    /** What a tokenizer.model or a GGUF "llama" vocabulary holds. */
    private static final class Spec {
        String[] pieces;
        float[] scores;
        int[] types;
        int unkId = 0, bosId = 1, eosId = 2;
        boolean byteFallback, addDummyPrefix = true, removeExtraWhitespaces = true, escapeWhitespaces = true, addsBos = true;
        String describe;
    }

    public SentencePieceTokenizer(Path file) throws IOException {
        this(parse(file));
    }

    /**
     * A SentencePiece-style vocabulary as llama.cpp's "llama" (SPM) tokenizer reads it from GGUF metadata: pieces with
     * U+2581 for spaces, scores, SentencePiece piece types (llama.cpp's token types have the same numbers). llama.cpp
     * never removes extra whitespace; it falls back to byte pieces when the vocabulary has them.
     */
    public static SentencePieceTokenizer fromVocabulary(String[] pieces, float[] scores, int[] types, int unkId, int bosId, int eosId,
                                                        boolean addsBos, boolean addSpacePrefix, String describe) {
        Spec s = new Spec();
        s.pieces = pieces.clone();
        s.scores = scores.clone();
        s.types = types.clone();
        s.unkId = unkId;
        s.bosId = bosId;
        s.eosId = eosId;
        s.addsBos = addsBos;
        s.addDummyPrefix = addSpacePrefix;
        s.removeExtraWhitespaces = false;
        for (int t : types) if (t == BYTE) s.byteFallback = true;
        s.describe = describe;
        return new SentencePieceTokenizer(s);
    }

    private static Spec parse(Path file) throws IOException {
        Spec spec = new Spec();
        byte[] all = Files.readAllBytes(file);
        List<String> ps = new ArrayList<>();
        List<Float> ss = new ArrayList<>();
        List<Integer> ts = new ArrayList<>();
        int modelType = -1; // stays -1 without a trainer_spec, which follows the pieces: a cut file
        String normalizer = "";
        int vocabSize = -1;
        boolean hasCharsMap = false;
        ProtoReader model = new ProtoReader(all, 0, all.length, file.toString());
        while (model.hasMore()) {
            int tag = model.tag();
            int field = tag >>> 3;
            if (field == 1 && (tag & 7) == 2) {
                ProtoReader p = model.message();
                String piece = "";
                float score = 0;
                int type = NORMAL;
                while (p.hasMore()) {
                    int t = p.tag();
                    switch (t) {
                        case (1 << 3) | 2 -> piece = p.string();
                        case (2 << 3) | 5 -> score = p.fixed32Float();
                        case (3 << 3) -> type = (int) p.varint();
                        default -> p.skip(t & 7);
                    }
                }
                ps.add(piece);
                ss.add(score);
                ts.add(type);
            } else if (field == 2 && (tag & 7) == 2) {
                ProtoReader t = model.message();
                if (modelType == -1) modelType = 1; // proto default: UNIGRAM
                while (t.hasMore()) {
                    int tt = t.tag();
                    switch (tt) {
                        case (3 << 3) -> modelType = (int) t.varint();
                        case (4 << 3) -> vocabSize = (int) t.varint();
                        case (35 << 3) -> spec.byteFallback = t.varint() != 0;
                        case (40 << 3) -> spec.unkId = (int) t.varint();
                        case (41 << 3) -> spec.bosId = (int) t.varint();
                        case (42 << 3) -> spec.eosId = (int) t.varint();
                        default -> t.skip(tt & 7);
                    }
                }
            } else if (field == 3 && (tag & 7) == 2) {
                ProtoReader n = model.message();
                while (n.hasMore()) {
                    int nt = n.tag();
                    switch (nt) {
                        case (1 << 3) | 2 -> normalizer = n.string();
                        case (2 << 3) | 2 -> hasCharsMap = !n.string().isEmpty();
                        case (3 << 3) -> spec.addDummyPrefix = n.varint() != 0;
                        case (4 << 3) -> spec.removeExtraWhitespaces = n.varint() != 0;
                        case (5 << 3) -> spec.escapeWhitespaces = n.varint() != 0;
                        default -> n.skip(nt & 7);
                    }
                }
            } else {
                model.skip(tag & 7);
            }
        }
        if (ps.isEmpty()) throw new TokenizerException(file + " holds no SentencePiece pieces (empty, truncated or not a tokenizer.model)");
        if (modelType == -1)
            throw new TokenizerException(file + " has pieces but no trainer_spec; it is truncated or not a SentencePiece tokenizer.model");
        if (modelType != 2)
            throw new TokenizerException(file + " is a SentencePiece " + (modelType == 1 ? "unigram" : "type " + modelType) + " model; only BPE models (LLaMA-style) are supported");
        if (vocabSize > 0 && vocabSize != ps.size())
            throw new TokenizerException(file + " declares " + vocabSize + " pieces but holds " + ps.size() + "; the file is corrupt");
        if (hasCharsMap && !normalizer.equals("identity"))
            throw new TokenizerException(file + " uses the SentencePiece normalizer '" + normalizer + "', which is not supported (only identity, as in LLaMA)");

        int n = ps.size();
        spec.pieces = ps.toArray(new String[0]);
        spec.scores = new float[n];
        spec.types = new int[n];
        for (int i = 0; i < n; i++) {
            spec.scores[i] = ss.get(i);
            spec.types[i] = ts.get(i);
        }
        spec.describe = "SentencePiece BPE " + file.getFileName() + " (" + n + " pieces)";
        return spec;
    }

    private SentencePieceTokenizer(Spec spec) {
        unkId = spec.unkId;
        bosId = spec.bosId;
        eosId = spec.eosId;
        byteFallback = spec.byteFallback;
        addDummyPrefix = spec.addDummyPrefix;
        removeExtraWhitespaces = spec.removeExtraWhitespaces;
        escapeWhitespaces = spec.escapeWhitespaces;
        addsBos = spec.addsBos;
        int n = spec.pieces.length;
        pieces = spec.pieces;
        scores = spec.scores;
        types = spec.types;
        Arrays.fill(byteId, -1);
        Map<String, Integer> mergeable = new HashMap<>();
        String[] mergeResults = new String[n];
        for (int i = 0; i < n; i++) {
            String p = pieces[i];
            if (types[i] == NORMAL || types[i] == USER_DEFINED) {
                mergeable.putIfAbsent(p, i);
                mergeResults[i] = p;
                if (p.codePointCount(0, p.length()) == 1) charId.putIfAbsent(p.codePointAt(0), i);
            }
            if (types[i] == USER_DEFINED) {
                userDefined.put(p, i);
                maxUserDefinedLength = Math.max(maxUserDefinedLength, p.length());
            }
            if (types[i] == BYTE) {
                int b = byteValue(p);
                if (b >= 0) byteId[b] = i;
            }
        }
        bpe = new ScoredBpe(mergeResults, scores, mergeable);
        describe = spec.describe;
    }

    private static int byteValue(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || !p.endsWith(">")) return -1;
        try {
            return Integer.parseInt(p.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public int[] encode(String text) {
        String s = text;
        if (removeExtraWhitespaces) s = s.replaceAll("^ +| +$", "").replaceAll(" {2,}", " ");
        if (s.isEmpty()) return new int[0];
        if (addDummyPrefix) s = " " + s;
        if (escapeWhitespaces) s = s.replace(' ', SPACE);
        if (userDefined.isEmpty()) return encodeSegment(s);
        // User-defined pieces are matched first and never merge, so the text between them encodes independently.
        IntList out = new IntList(s.length());
        int start = 0, i = 0;
        while (i < s.length()) {
            int len = userDefinedAt(s, i);
            if (len > 0) {
                out.addAll(encodeSegment(s.substring(start, i)));
                out.add(userDefined.get(s.substring(i, i + len)));
                i += len;
                start = i;
            } else {
                i++;
            }
        }
        out.addAll(encodeSegment(s.substring(start)));
        return out.toArray();
    }

    private int userDefinedAt(String s, int i) {
        for (int len = Math.min(maxUserDefinedLength, s.length() - i); len > 0; len--)
            if (userDefined.containsKey(s.substring(i, i + len))) return len;
        return 0;
    }

    private int[] encodeSegment(String s) {
        IntList sym = new IntList(s.length() + 8);
        boolean prevUnk = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            Integer id = charId.get(cp);
            if (id != null) {
                sym.add(id);
                prevUnk = false;
            } else if (byteFallback) {
                for (byte b : s.substring(i, i + len).getBytes(StandardCharsets.UTF_8)) {
                    int bid = byteId[b & 0xff];
                    sym.add(bid >= 0 ? bid : unkId);
                }
            } else {
                // SentencePiece reports a run of unknown characters as one UNK.
                if (!prevUnk) sym.add(unkId);
                prevUnk = true;
            }
            i += len;
        }
        return bpe.apply(sym.toArray());
    }

    private byte[] pieceBytes(int previous, int token) {
        if (token < 0 || token >= pieces.length) return new byte[0];
        switch (types[token]) {
            case CONTROL: return new byte[0];
            case UNKNOWN: return " \u2047 ".getBytes(StandardCharsets.UTF_8);
            case BYTE: {
                int b = byteValue(pieces[token]);
                if (b >= 0) return new byte[] {(byte) b};
                break;
            }
            default: break;
        }
        String p = pieces[token].replace(SPACE, ' ');
        if (previous == bosId && p.startsWith(" ")) p = p.substring(1);
        return p.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int previous, int token) {
        return new String(pieceBytes(previous, token), StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = bosId;
        for (int id : ids) {
            out.writeBytes(pieceBytes(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public String piece(int id) { return pieces[id]; }

    public float score(int id) { return scores[id]; }

    public int type(int id) { return types[id]; }

    public int unkId() { return unkId; }

    /** Whether a space is prepended to the text (SentencePiece add_dummy_prefix, llama.cpp add_space_prefix). */
    public boolean addsSpacePrefix() { return addDummyPrefix; }

    /** Whether runs of spaces are collapsed and ends trimmed (SentencePiece remove_extra_whitespaces; llama.cpp never does). */
    public boolean removesExtraWhitespaces() { return removeExtraWhitespaces; }

    @Override public int vocabSize() { return pieces.length; }
    @Override public int bosId() { return bosId; }
    @Override public int eosId() { return eosId; }
    @Override public boolean addsBosByDefault() { return addsBos; }
    @Override public String describe() { return describe; }
}
