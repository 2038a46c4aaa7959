package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.testng.annotations.Test;
import sleb.SharedData;

public class TiktokenTokenizerTest {
    private static TiktokenTokenizer shared;

    /** Loaded once for all tests: tokenizers are immutable. */
    static synchronized TiktokenTokenizer llama3() throws Exception {
        if (shared == null) shared = new TiktokenTokenizer(SharedData.require("models/llama3-tokenizer/tokenizer.model"));
        return shared;
    }

    @Test
    public void matchesLlamaCppBpeVectors() throws Exception {
        Vectors v = Vectors.load("ggml-vocab-llama-bpe.gguf");
        assertEquals(v.texts.size(), 46);
        List<String> bad = v.mismatches(llama3());
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    @Test
    public void specialTokensFollowMeta() throws Exception {
        TiktokenTokenizer t = llama3();
        assertEquals(t.vocabSize(), 128256);
        assertEquals(t.bosId(), 128000);
        assertEquals(t.eosId(), 128001);
        assertEquals(t.specialId("<|start_header_id|>"), 128006);
        assertEquals(t.specialId("<|end_header_id|>"), 128007);
        assertEquals(t.specialId("<|eot_id|>"), 128009);
        assertEquals(t.special(128255), "<|reserved_special_token_250|>");
        assertTrue(t.addsBosByDefault());
    }

    @Test
    public void decodesRoundTrip() throws Exception {
        TiktokenTokenizer t = llama3();
        for (String s : new String[] {"Hello world", " ied 4 \u00bd months", "F\u00fchrer\n\n x", "\ud83e\udd99.cpp"}) {
            assertEquals(t.decode(t.encode(s)), s);
        }
        int[] ids = t.encode("Hello world");
        assertEquals(t.decode(t.bosId(), ids[0]), "Hello");
        assertEquals(t.decode(ids[0], ids[1]), " world");
    }

    @Test
    public void roundTripsWikiTest() throws Exception {
        String text = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8);
        TiktokenTokenizer t = llama3();
        long t0 = System.nanoTime();
        int[] ids = t.encode(text);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("tiktoken: wiki.test.raw %d chars -> %d tokens in %.2f s%n", text.length(), ids.length, s);
        assertTrue(t.decode(ids).equals(text), "decode(encode(wiki.test.raw)) differs from the text");
    }
}
