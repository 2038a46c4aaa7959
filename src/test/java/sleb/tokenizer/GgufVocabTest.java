package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.model.GgufValue;
import sleb.model.GgufWriter;

/**
 * Tokenizers read from GGUF metadata give llama.cpp's ids: the real llama.cpp vocabulary file ggml-vocab-llama-spm.gguf
 * on its own test vectors, and vocabularies SLEB-J writes from the LLaMA-2 tokenizer.model and its llama2.c export give
 * the source tokenizer's ids on the same vectors.
 */
public class GgufVocabTest {
    /** A vocabulary-only GGUF file (metadata, no tensors), as llama.cpp's ggml-vocab-*.gguf files are. */
    static Path writeVocabOnly(GgufVocab v) throws Exception {
        Path f = Files.createTempDirectory("gguf-vocab").resolve("vocab.gguf");
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.str("llama"));
        v.putMetadata(meta);
        GgufWriter.write(f, meta, List.of());
        return f;
    }

    @Test
    public void llamaCppSpmVocabularyMatchesItsVectors() throws Exception {
        Path gguf = SharedData.require("data/tokenizer-vectors/ggml-vocab-llama-spm.gguf");
        Tokenizer t = Tokenizers.load(gguf, 0);
        assertEquals(t.vocabSize(), 32000);
        assertEquals(t.bosId(), 1);
        assertEquals(t.eosId(), 2);
        assertTrue(t.addsBosByDefault());
        List<String> bad = Vectors.load("ggml-vocab-llama-spm.gguf").mismatches(t);
        assertTrue(bad.isEmpty(), bad.size() + " mismatches: " + bad);
    }

    @Test
    public void writtenFromSentencePieceGivesTheSourceIds() throws Exception {
        Path model = SharedData.require("models/llama2-tokenizer/tokenizer.model");
        SentencePieceTokenizer src = new SentencePieceTokenizer(model);
        Path f = writeVocabOnly(GgufVocab.of(src, model));
        Tokenizer back = Tokenizers.load(f, 32000);
        Vectors v = Vectors.load("ggml-vocab-llama-spm.gguf");
        for (String text : v.texts) assertEquals(back.encode(text), src.encode(text), text);
        assertTrue(v.mismatches(back).isEmpty(), v.mismatches(back).toString());
        assertEquals(back.decode(back.encode(" Hello world")), " Hello world");
    }

    /**
     * llama2.c's tokenizer.bin of the same vocabulary, converted as llama.cpp's convert-llama2c-to-ggml does (spaces to
     * U+2581, <unk>/<s>/</s> named, byte pieces typed BYTE), gives run.c's ids, which are SentencePiece's on these texts.
     */
    @Test
    public void writtenFromLlama2cTokenizerBinGivesTheSourceIds() throws Exception {
        Path bin = SharedData.require("models/llama2-tokenizer/tokenizer.bin");
        Llama2cTokenizer src = new Llama2cTokenizer(bin, 32000);
        GgufVocab v = GgufVocab.of(src, bin);
        assertEquals(v.tokens[1], "<s>");
        assertEquals(v.types[3], GgufVocab.BYTE);
        Tokenizer back = Tokenizers.load(writeVocabOnly(v), 32000);
        for (String text : Vectors.load("ggml-vocab-llama-spm.gguf").texts) {
            if (text.isEmpty() || text.matches("(?s).* {2,}.*|^ .*")) continue; // run.c differs from SentencePiece on space runs; both sides are checked elsewhere
            assertEquals(back.encode(text), src.encode(text), text);
        }
    }

    /**
     * Meta's LLaMA-3 tiktoken file written as a "gpt2" vocabulary (pre llama-bpe, merges derived from the ranks) and
     * read back through the byte-level BPE gives llama.cpp's ids on its LLaMA-3 vectors, as the tiktoken source does.
     */
    @Test
    public void writtenFromLlama3TiktokenMatchesTheBpeVectors() throws Exception {
        Path model = SharedData.require("models/llama3-tokenizer/tokenizer.model");
        TiktokenTokenizer src = new TiktokenTokenizer(model);
        GgufVocab v = GgufVocab.of(src, model);
        assertEquals(v.model, "gpt2");
        assertEquals(v.pre, "llama-bpe");
        assertEquals(v.tokens.length, 128256);
        assertEquals(v.tokens[128000], "<|begin_of_text|>");
        assertEquals(v.types[128000], GgufVocab.CONTROL);
        assertEquals(v.tokens[220], "\u0120", "rank 220 is the byte 0x20 (space), written U+0120 in GPT-2's alphabet");
        Tokenizer back = Tokenizers.load(writeVocabOnly(v), 128256);
        assertEquals(back.bosId(), 128000);
        assertTrue(back.addsBosByDefault());
        Vectors vec = Vectors.load("ggml-vocab-llama-bpe.gguf");
        List<String> bad = vec.mismatches(back);
        assertTrue(bad.isEmpty(), bad.size() + " mismatches: " + bad);
        assertEquals(back.decode(back.encode("Hello world, \u00e9t\u00e9!")), "Hello world, \u00e9t\u00e9!");
    }

    @Test
    public void unsupportedVocabulariesAreRefusedNamingWhat() throws Exception {
        Path model = SharedData.require("models/llama2-tokenizer/tokenizer.model");
        GgufVocab v = GgufVocab.of(new SentencePieceTokenizer(model), model);
        GgufVocab bert = new GgufVocab("bert", null, v.tokens, v.scores, v.types, null, 1, 2, 0, true, true, "x");
        TokenizerException e = expectThrows(TokenizerException.class, () -> Tokenizers.load(writeVocabOnly(bert), 0));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model 'bert' is not supported"), e.getMessage());
        GgufVocab oddPre = new GgufVocab("gpt2", "qwen2", v.tokens, v.scores, v.types, new String[0], 1, 2, -1, true, false, "x");
        e = expectThrows(TokenizerException.class, () -> Tokenizers.load(writeVocabOnly(oddPre), 0));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre 'qwen2' is not supported"), e.getMessage());
    }

    @Test
    public void gpt2ByteAlphabetIsGpt2s() {
        // bytes_to_unicode: '!' stays, space (0x20) is the 33rd non-printable byte -> U+0120 'Ġ', newline -> U+010A 'Ċ'
        assertEquals(ByteLevelPreTokenizer.toUnicode(new byte[] {'!', ' ', '\n', (byte) 0xAD}), "!\u0120\u010A\u0143");
    }
}
