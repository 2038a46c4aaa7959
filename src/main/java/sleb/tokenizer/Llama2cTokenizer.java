package sleb.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * llama2.c's tokenizer.bin (int32 max_token_length, then per token: float32 score, int32 length, bytes),
 * encoding exactly as run.c's encode: a dummy-prefix " " piece, each UTF-8 character to its piece or
 * else to byte tokens (id = byte + 3), then score-driven merges.
 */
public final class Llama2cTokenizer implements Tokenizer {
    private final String[] pieces; // ISO-8859-1: one char per byte
    private final float[] scores;
    private final Map<String, Integer> idOf = new HashMap<>();
    private final ScoredBpe bpe;
    private final String describe;

    public Llama2cTokenizer(Path file, int vocabSize) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        pieces = new String[vocabSize];
        scores = new float[vocabSize];
        try {
            int maxLen = b.getInt();
            if (maxLen <= 0 || maxLen > 1 << 16) throw new TokenizerException(file + " is not a llama2.c tokenizer (max token length " + maxLen + ")");
            for (int i = 0; i < vocabSize; i++) {
                scores[i] = b.getFloat();
                int len = b.getInt();
                if (len < 0 || len > maxLen || len > b.remaining())
                    throw new TokenizerException(file + ": token " + i + " has a bad length " + len + "; the file is corrupt or not a llama2.c tokenizer");
                byte[] s = new byte[len];
                b.get(s);
                pieces[i] = new String(s, StandardCharsets.ISO_8859_1);
                idOf.putIfAbsent(pieces[i], i);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new TokenizerException(file + " ends before its " + vocabSize + " tokens (truncated, or a tokenizer for a smaller vocabulary)");
        }
        bpe = new ScoredBpe(pieces, scores, idOf);
        describe = "llama2.c tokenizer " + file.getFileName() + " (" + vocabSize + " tokens)";
    }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] sym = new int[bytes.length + 1];
        int n = 0;
        Integer prefix = idOf.get(" ");
        if (prefix != null) sym[n++] = prefix;
        int i = 0;
        while (i < bytes.length) {
            int j = i + 1; // run.c groups a byte with up to 3 following continuation bytes
            while (j < bytes.length && (bytes[j] & 0xC0) == 0x80 && j - i < 4) j++;
            Integer id = idOf.get(new String(bytes, i, j - i, StandardCharsets.ISO_8859_1));
            if (id != null) {
                sym[n++] = id;
            } else {
                for (int k = i; k < j; k++) sym[n++] = (bytes[k] & 0xff) + 3;
            }
            i = j;
        }
        return bpe.apply(java.util.Arrays.copyOf(sym, n));
    }

    private byte[] pieceBytes(int previous, int token) {
        String p = pieces[token];
        if (previous == bosId() && p.startsWith(" ")) p = p.substring(1);
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(p.substring(3, 5), 16)};
            } catch (NumberFormatException ignored) {
                // an ordinary piece that looks like a byte token
            }
        }
        return p.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public String decode(int previous, int token) {
        return new String(pieceBytes(previous, token), StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int prev = bosId();
        for (int id : ids) {
            out.writeBytes(pieceBytes(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public String piece(int id) { return pieces[id]; }

    public float score(int id) { return scores[id]; }

    @Override public int vocabSize() { return pieces.length; }
    @Override public int bosId() { return 1; }
    @Override public int eosId() { return 2; }
    @Override public boolean addsBosByDefault() { return true; }
    @Override public String describe() { return describe; }
}
