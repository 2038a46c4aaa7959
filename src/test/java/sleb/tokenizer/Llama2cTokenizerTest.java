package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.SharedData;

public class Llama2cTokenizerTest {
    /** run.c's encode, literally: rescan every adjacent pair for the best-scoring merge until none is left. */
    static int[] naiveRunC(Llama2cTokenizer t, float[] scores, String text) {
        Map<String, Integer> lookup = new HashMap<>();
        for (int i = 0; i < t.vocabSize(); i++) lookup.putIfAbsent(t.piece(i), i);
        List<Integer> tok = new ArrayList<>();
        if (!text.isEmpty() && lookup.containsKey(" ")) tok.add(lookup.get(" "));
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; ) {
            int j = i + 1;
            while (j < b.length && (b[j] & 0xC0) == 0x80 && j - i < 4) j++;
            Integer id = lookup.get(new String(b, i, j - i, StandardCharsets.ISO_8859_1));
            if (id != null) tok.add(id);
            else for (int k = i; k < j; k++) tok.add((b[k] & 0xff) + 3);
            i = j;
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (int i = 0; i + 1 < tok.size(); i++) {
                Integer id = lookup.get(t.piece(tok.get(i)) + t.piece(tok.get(i + 1)));
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) break;
            tok.set(bestIdx, bestId);
            tok.remove(bestIdx + 1);
        }
        return tok.stream().mapToInt(Integer::intValue).toArray();
    }

    static float[] scores(Path bin, int vocab) throws Exception {
        var bb = java.nio.ByteBuffer.wrap(Files.readAllBytes(bin)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.getInt();
        float[] s = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            s[i] = bb.getFloat();
            int len = bb.getInt();
            bb.position(bb.position() + len);
        }
        return s;
    }

    @Test
    public void tok512SmallExample() throws Exception {
        Path bin = SharedData.require("models/stories260K/tok512.bin");
        Llama2cTokenizer t = new Llama2cTokenizer(bin, 512);
        int[] ids = t.encode("Once upon a time");
        StringBuilder pieces = new StringBuilder();
        for (int id : ids) pieces.append('[').append(t.piece(id)).append(']');
        System.out.println("tok512 'Once upon a time' -> " + Arrays.toString(ids) + " " + pieces);
        assertEquals(pieces.toString(), EXPECTED_PIECES);
        assertEquals(ids, new int[] {403, 407, 261, 378});
        assertEquals(ids, naiveRunC(t, scores(bin, 512), "Once upon a time"));
        assertEquals(t.decode(ids), "Once upon a time");
    }

    static final String EXPECTED_PIECES = "[ Once][ upon][ a][ time]";

    @Test
    public void tok512MatchesRunCOnWikiText() throws Exception {
        Path bin = SharedData.require("models/stories260K/tok512.bin");
        String wiki = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        Llama2cTokenizer t = new Llama2cTokenizer(bin, 512);
        float[] scores = scores(bin, 512);
        String sample = wiki.substring(0, 3000);
        assertEquals(t.encode(sample), naiveRunC(t, scores, sample));
        String nonAscii = "Eugen Sch\u00fcfftan \u2014 \u00bd \u65e5\u672c \ud83e\udd99";
        assertEquals(t.encode(nonAscii), naiveRunC(t, scores, nonAscii));
        assertEquals(t.decode(t.encode(nonAscii)), nonAscii);

        long t0 = System.nanoTime();
        int[] ids = t.encode(wiki);
        System.out.printf("llama2.c tok512: wiki.test.raw -> %d tokens in %.2f s%n", ids.length, (System.nanoTime() - t0) / 1e9);
        Llama2cTokenizer big = new Llama2cTokenizer(SharedData.require("models/llama2-tokenizer/tokenizer.bin"), 32000);
        t0 = System.nanoTime();
        ids = big.encode(wiki);
        System.out.printf("llama2.c tokenizer.bin (32000): wiki.test.raw -> %d tokens in %.2f s%n", ids.length, (System.nanoTime() - t0) / 1e9);
    }

    @Test
    public void tokenizerBinAgreesWithSentencePieceOnPlainAscii() throws Exception {
        Llama2cTokenizer bin = new Llama2cTokenizer(SharedData.require("models/llama2-tokenizer/tokenizer.bin"), 32000);
        SentencePieceTokenizer spm = SentencePieceTokenizerTest.llama2();
        String wiki = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        int checked = 0;
        for (String line : wiki.split("\n")) {
            String s = line.strip();
            if (s.isEmpty() || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) continue;
            assertEquals(bin.encode(s), spm.encode(s), s);
            if (++checked == 500) break;
        }
        for (String s : new String[] {"Hello world", "The quick brown fox jumps over the lazy dog.", "I've been 'told he's there, 'RE you sure?"})
            assertEquals(bin.encode(s), spm.encode(s), s);
        assertTrue(checked >= 100, "only " + checked + " ASCII lines");
    }
}
