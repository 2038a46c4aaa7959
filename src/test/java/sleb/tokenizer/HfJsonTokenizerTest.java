package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.SharedData;

/** tokenizer.json through DJL, on fixtures converted from the real LLaMA-2 and LLaMA-3 tokenizer.model files. */
public class HfJsonTokenizerTest {
    private Path tmp;

    @BeforeClass
    public void makeDir() throws Exception { tmp = Files.createTempDirectory("hfjson"); }

    @AfterClass(alwaysRun = true)
    public void removeDir() throws Exception {
        if (tmp == null) return;
        try (var s = Files.walk(tmp)) {
            s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private Path llama2Dir(Boolean addBos) throws Exception {
        SentencePieceTokenizer spm = SentencePieceTokenizerTest.llama2();
        Path dir = Files.createDirectories(tmp.resolve("llama2-" + addBos));
        long t0 = System.nanoTime();
        HfFixtures.llama2(spm, dir.resolve("tokenizer.json"));
        System.out.printf("LLaMA-2 tokenizer.json fixture built in %.2f s%n", (System.nanoTime() - t0) / 1e9);
        HfFixtures.config(dir, "<s>", "</s>", addBos);
        return dir;
    }

    @Test
    public void llama2JsonMatchesSpmVectorsAndSentencePiece() throws Exception {
        Path dir = llama2Dir(true);
        HfJsonTokenizer t = new HfJsonTokenizer(dir.resolve("tokenizer.json"));
        List<String> bad = Vectors.load("ggml-vocab-llama-spm.gguf").mismatches(t);
        assertTrue(bad.isEmpty(), String.join("\n", bad));
        assertEquals(t.vocabSize(), 32000);
        assertEquals(t.bosId(), 1);
        assertEquals(t.eosId(), 2);
        assertTrue(t.addsBosByDefault());

        int[] ids = t.encode("Hello world");
        assertEquals(t.decode(t.bosId(), ids[0]), "Hello");
        assertEquals(t.decode(ids[0], ids[1]), " world");
        assertEquals(t.decode(t.encode("F\u00fchrer \ud83e\udd99 x")), "F\u00fchrer \ud83e\udd99 x");

        String text = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        int[] hf = t.encode(text);
        System.out.printf("HF json (LLaMA-2 via DJL): wiki.test.raw -> %d tokens in %.2f s%n", hf.length, (System.nanoTime() - t0) / 1e9);
        assertTrue(Arrays.equals(hf, SentencePieceTokenizerTest.llama2().encode(text)), "HF and SentencePiece differ on wiki.test.raw");
    }

    @Test
    public void addBosFalseInConfigIsObeyed() throws Exception {
        Path dir = llama2Dir(false);
        assertFalse(new HfJsonTokenizer(dir.resolve("tokenizer.json")).addsBosByDefault());
    }

    @Test
    public void llama3JsonMatchesBpeVectorsAndTiktoken() throws Exception {
        TiktokenTokenizer tt = TiktokenTokenizerTest.llama3();
        Path dir = Files.createDirectories(tmp.resolve("llama3"));
        long t0 = System.nanoTime();
        HfFixtures.llama3(tt, dir.resolve("tokenizer.json"));
        System.out.printf("LLaMA-3 tokenizer.json fixture built in %.2f s%n", (System.nanoTime() - t0) / 1e9);
        HfFixtures.config(dir, "<|begin_of_text|>", "<|end_of_text|>", null); // as Meta's: BOS comes from the post_processor
        HfJsonTokenizer t = new HfJsonTokenizer(dir.resolve("tokenizer.json"));
        List<String> bad = Vectors.load("ggml-vocab-llama-bpe.gguf").mismatches(t);
        assertTrue(bad.isEmpty(), String.join("\n", bad));
        assertEquals(t.vocabSize(), 128256);
        assertEquals(t.bosId(), 128000);
        assertEquals(t.eosId(), 128001);
        assertTrue(t.addsBosByDefault());
        int[] ids = t.encode("Hello world");
        assertEquals(t.decode(t.bosId(), ids[0]), "Hello");
        assertEquals(t.decode(ids[0], ids[1]), " world");

        String text = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        t0 = System.nanoTime();
        int[] hf = t.encode(text);
        System.out.printf("HF json (LLaMA-3 via DJL): wiki.test.raw -> %d tokens in %.2f s%n", hf.length, (System.nanoTime() - t0) / 1e9);
        assertTrue(Arrays.equals(hf, tt.encode(text)), "HF and tiktoken differ on wiki.test.raw");
        assertEquals(t.decode(hf), text);
    }
}
