package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.SharedData;

/**
 * OPT's GPT-2 byte-level BPE (shared models/opt-tokenizer vocab.json + merges.txt) against the expected ids in
 * data/tokenizer-vectors/opt-gpt2-bpe.out, which start with the `</s>` (2) transformers' OPT tokenizer prepends.
 */
public class ByteLevelBpeTest {
    static Path optDir() { return SharedData.require("models/opt-tokenizer"); }

    @Test
    public void optIdsEqualTheVectorsWithBosPrepended() throws Exception {
        Tokenizer t = Tokenizers.load(optDir(), 0);
        assertEquals(t.bosId(), 2);
        assertEquals(t.eosId(), 2);
        assertTrue(t.addsBosByDefault(), "OPT prepends </s>");
        assertEquals(t.vocabSize(), 50265);
        Vectors v = Vectors.load("opt-gpt2-bpe");
        assertTrue(v.texts.size() > 20, "vectors read");
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < v.texts.size(); i++) {
            int[] want = v.ids.get(i);
            int[] got = t.encode(v.texts.get(i));
            int[] withBos = new int[got.length + 1];
            withBos[0] = t.bosId();
            System.arraycopy(got, 0, withBos, 1, got.length);
            if (!Arrays.equals(withBos, want)) bad.add("#" + i + " '" + v.texts.get(i) + "': want " + Arrays.toString(want) + " got " + Arrays.toString(withBos));
        }
        assertTrue(bad.isEmpty(), bad.size() + " mismatches:\n" + String.join("\n", bad));
    }

    /** transformers' OPTTokenizationTest (facebook/opt-350m): "A photo of a cat" is [2, 250, 1345, 9, 10, 4758]. */
    @Test
    public void transformersOptExampleAndRoundTrip() throws Exception {
        Tokenizer t = ByteLevelBpe.fromFiles(optDir().resolve("vocab.json"));
        assertEquals(t.encode("A photo of a cat"), new int[] {250, 1345, 9, 10, 4758});
        String text = "Héllo wörld,  it's 10 ≥ 9 — 😀\n\ttabs";
        assertEquals(t.decode(t.encode(text)), text);
        assertEquals(t.encode("x</s>y").length, 3, "</s> is special: matched whole");
    }

    /** The builder alone, on a hand-made vocabulary: merges apply by rank, and the regex choice changes the split. */
    @Test
    public void handMadeVocabularyMergesByRank() throws Exception {
        Map<String, Integer> vocab = new java.util.LinkedHashMap<>();
        String[] toks = {"a", "b", "c", "Ġ", "1", "2", "3", "ab", "abc", "Ġa", "12", "123"};
        for (int i = 0; i < toks.length; i++) vocab.put(toks[i], i);
        List<String> merges = List.of("a b", "ab c", "Ġ a", "1 2", "12 3");
        Tokenizer gpt2 = ByteLevelBpe.create(vocab, merges, ByteLevelBpe.Split.GPT2, List.of(), null, null, false, "test");
        assertEquals(gpt2.encode("abc a"), new int[] {8, 9});
        assertEquals(gpt2.encode("1123"), new int[] {4, 11}, "GPT-2 keeps a digit run whole: 1 1 2 3 -> 1 12 3 -> 1 123");
        Tokenizer l3 = ByteLevelBpe.create(vocab, merges, ByteLevelBpe.Split.LLAMA3, List.of(), null, null, false, "test");
        assertEquals(l3.encode("1123"), new int[] {4, 10, 6}, "LLaMA-3 splits digits in threes: 112 | 3");
    }

    @Test
    public void missingMergesIsOneClearLine() throws Exception {
        Path dir = Files.createTempDirectory("bpe");
        try {
            Files.copy(optDir().resolve("vocab.json"), dir.resolve("vocab.json"));
            TokenizerException e = expectThrows(TokenizerException.class, () -> ByteLevelBpe.fromFiles(dir));
            assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
            Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nĠ t\nbroken\n");
            e = expectThrows(TokenizerException.class, () -> ByteLevelBpe.fromFiles(dir));
            assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }
}
