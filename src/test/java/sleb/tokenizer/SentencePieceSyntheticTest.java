package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;

/** Small hand-built ModelProto files: user-defined pieces, UNK runs, whitespace cleanup, unsupported models. */
public class SentencePieceSyntheticTest {
    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7fL) != 0) {
            o.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        o.write((int) v);
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] b) {
        varint(o, (long) field << 3 | 2);
        varint(o, b.length);
        o.writeBytes(b);
    }

    private static void varintField(ByteArrayOutputStream o, int field, long v) {
        varint(o, (long) field << 3);
        varint(o, v);
    }

    private static byte[] piece(String p, float score, int type) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        bytesField(o, 1, p.getBytes(StandardCharsets.UTF_8));
        varint(o, 2 << 3 | 5);
        int bits = Float.floatToIntBits(score);
        for (int i = 0; i < 4; i++) o.write(bits >>> (8 * i));
        varintField(o, 3, type);
        return o.toByteArray();
    }

    private static Path model(int modelType, Object... pieces) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int i = 0; i < pieces.length; i += 3)
            bytesField(o, 1, piece((String) pieces[i], ((Number) pieces[i + 1]).floatValue(), (Integer) pieces[i + 2]));
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        varintField(trainer, 3, modelType);
        varintField(trainer, 4, pieces.length / 3);
        bytesField(o, 2, trainer.toByteArray());
        Path f = Files.createTempFile("spm", ".model");
        f.toFile().deleteOnExit();
        return Files.write(f, o.toByteArray());
    }

    @Test
    public void userDefinedPiecesSplitTheTextAndUnknownRunsAreOneUnk() throws Exception {
        Path f = model(2, "<unk>", 0, 2, "<s>", 0, 3, "</s>", 0, 3, "\u2581", -1, 1, "a", -2, 1, "b", -3, 1,
                "ab", -4, 1, "\u2581ab", -5, 1, "<x>", 0, 4);
        SentencePieceTokenizer t = new SentencePieceTokenizer(f);
        // Default normalizer spec: extra spaces removed, dummy prefix added, spaces escaped; no byte fallback.
        assertEquals(t.encode("  ab<x>ab   cd"), new int[] {7, 8, 6, 3, 0});
        assertEquals(t.decode(t.encode("ab<x>ab")), "ab<x>ab");
        assertEquals(t.encode(""), new int[0]);
        assertEquals(t.encode("   "), new int[0]);
    }

    @Test
    public void unigramAndTruncatedModelsAreRefused() throws Exception {
        Path uni = model(1, "<unk>", 0, 2, "a", -1, 1);
        TokenizerException e = expectThrows(TokenizerException.class, () -> new SentencePieceTokenizer(uni));
        assertTrue(e.getMessage().contains("unigram"), e.getMessage());
        byte[] all = Files.readAllBytes(model(2, "<unk>", 0, 2, "a", -1, 1, "b", -2, 1));
        Path cut = Files.write(Files.createTempFile("cut", ".model"), java.util.Arrays.copyOf(all, all.length - 3));
        cut.toFile().deleteOnExit();
        e = expectThrows(TokenizerException.class, () -> new SentencePieceTokenizer(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
}
