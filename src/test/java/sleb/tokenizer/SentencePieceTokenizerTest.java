package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.testng.annotations.Test;
import sleb.SharedData;

public class SentencePieceTokenizerTest {
    private static SentencePieceTokenizer shared;

    /** Loaded once for all tests: tokenizers are immutable. */
    static synchronized SentencePieceTokenizer llama2() throws Exception {
        if (shared == null) shared = new SentencePieceTokenizer(SharedData.require("models/llama2-tokenizer/tokenizer.model"));
        return shared;
    }

    @Test
    public void matchesLlamaCppSpmVectors() throws Exception {
        Vectors v = Vectors.load("ggml-vocab-llama-spm.gguf");
        assertEquals(v.texts.size(), 46);
        List<String> bad = v.mismatches(llama2());
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    @Test
    public void readsHeaderFields() throws Exception {
        SentencePieceTokenizer t = llama2();
        assertEquals(t.vocabSize(), 32000);
        assertEquals(t.bosId(), 1);
        assertEquals(t.eosId(), 2);
        assertTrue(t.addsBosByDefault());
        assertEquals(t.piece(13), "<0x0A>");
    }

    @Test
    public void decodesRoundTrip() throws Exception {
        SentencePieceTokenizer t = llama2();
        for (String s : new String[] {"Hello world", "ied 4 \u00bd months", "F\u00fchrer\n\n x", " this is \ud83e\udd99.cpp"}) {
            assertEquals(t.decode(t.encode(s)), s);
        }
        int[] ids = t.encode("Hello world");
        assertEquals(t.decode(t.bosId(), ids[0]), "Hello");
        assertEquals(t.decode(ids[0], ids[1]), " world");
    }

    @Test
    public void roundTripsWikiTest() throws Exception {
        Path wiki = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        String text = Files.readString(wiki, StandardCharsets.UTF_8);
        SentencePieceTokenizer t = llama2();
        long t0 = System.nanoTime();
        int[] ids = t.encode(text);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("SentencePiece: wiki.test.raw %d chars -> %d tokens in %.2f s%n", text.length(), ids.length, s);
        assertTrue(t.decode(ids).equals(text), "decode(encode(wiki.test.raw)) differs from the text");
    }
}
