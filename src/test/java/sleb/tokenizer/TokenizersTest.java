package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertNull;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.SharedData;

public class TokenizersTest {
    private Path tmp;

    @BeforeClass
    public void makeDir() throws Exception { tmp = Files.createTempDirectory("toks"); }

    @AfterClass(alwaysRun = true)
    public void removeDir() throws Exception {
        if (tmp == null) return;
        try (var s = Files.walk(tmp)) {
            s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    public void detectsFormatsByNameAndContent() throws Exception {
        assertTrue(Tokenizers.load(SharedData.require("models/llama2-tokenizer/tokenizer.model"), 32000) instanceof SentencePieceTokenizer);
        assertTrue(Tokenizers.load(SharedData.require("models/llama3-tokenizer/tokenizer.model"), 128256) instanceof TiktokenTokenizer);
        assertTrue(Tokenizers.load(SharedData.require("models/llama2-tokenizer/tokenizer.bin"), 32000) instanceof Llama2cTokenizer);
        Tokenizer t512 = Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 512);
        assertEquals(t512.vocabSize(), 512);
        // A tokenizer.model under another name is still told apart by content.
        Path renamed = Files.copy(SharedData.require("models/llama3-tokenizer/tokenizer.model"), tmp.resolve("llama3.tiktoken"));
        assertTrue(Tokenizers.load(renamed, 0) instanceof TiktokenTokenizer);
    }

    @Test
    public void findsTokenizerBesideModels() throws Exception {
        Path stories = SharedData.require("models/stories260K/stories260K.bin");
        assertEquals(Tokenizers.findBeside(stories).getFileName().toString(), "tok512.bin");
        assertEquals(Tokenizers.llama2cVocab(stories), 512);
        assertNull(Tokenizers.findBeside(SharedData.require("models/stories260K-hf")));
        assertNull(Tokenizers.findBeside(SharedData.require("models/stories260K-hf/model.safetensors")));
        Path llama2 = SharedData.require("models/llama2-tokenizer");
        assertEquals(Tokenizers.findBeside(llama2).getFileName().toString(), "tokenizer.model");

        Path hf = Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(hf.resolve("config.json"), "{}");
        Files.copy(SharedData.require("models/llama2-tokenizer/tokenizer.model"), hf.resolve("tokenizer.model"));
        assertEquals(Tokenizers.findBeside(hf.resolve("config.json")), hf.resolve("tokenizer.model"));
        Files.writeString(hf.resolve("tokenizer.json"), "{}");
        assertEquals(Tokenizers.findBeside(hf), hf.resolve("tokenizer.json"));
        assertTrue(Tokenizers.load(hf.resolve("tokenizer.model"), 32000) instanceof SentencePieceTokenizer);
    }

    private Path truncated(String shared, String name, int keep) throws Exception {
        byte[] all = Files.readAllBytes(SharedData.require(shared));
        return Files.write(tmp.resolve(name), Arrays.copyOf(all, Math.min(keep, all.length)));
    }

    private static void assertOneLineError(Runnable r, String mustContain) {
        TokenizerException e = expectThrows(TokenizerException.class, r::run);
        assertTrue(e.getMessage().contains(mustContain), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "multi-line: " + e.getMessage());
    }

    @Test
    public void missingTruncatedAndCorruptFilesFailClearly() throws Exception {
        assertOneLineError(() -> Tokenizers.load(tmp.resolve("nope.model"), 32000), "does not exist");

        Path spm = truncated("models/llama2-tokenizer/tokenizer.model", "cut.model", 100_000);
        assertOneLineError(() -> Tokenizers.load(spm, 32000), "truncated");
        Path tik = truncated("models/llama3-tokenizer/tokenizer.model", "cut-tiktoken.model", 100_003);
        assertOneLineError(() -> Tokenizers.load(tik, 128256), "line");
        Path bin = truncated("models/llama2-tokenizer/tokenizer.bin", "cut.bin", 5000);
        assertOneLineError(() -> Tokenizers.load(bin, 32000), "truncated");
        Path tiny = truncated("models/stories260K/tok512.bin", "tiny.bin", 2);
        assertOneLineError(() -> Tokenizers.load(tiny, 512), "truncated");
        assertOneLineError(() -> Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 0), "vocabulary size");

        Path json = Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,");
        assertOneLineError(() -> Tokenizers.load(json, 32000), "not valid JSON");
        Path notTok = Files.writeString(tmp.resolve("other.json"), "{\"architectures\": []}");
        assertOneLineError(() -> Tokenizers.load(notTok, 32000), "no model.vocab");
        Path text = Files.writeString(tmp.resolve("readme.model"), "hello world, this is not a tokenizer\n", StandardCharsets.UTF_8);
        expectThrows(TokenizerException.class, () -> Tokenizers.load(text, 32000));
        Path empty = Files.write(tmp.resolve("empty.model"), new byte[0]);
        assertOneLineError(() -> Tokenizers.load(empty, 32000), "no SentencePiece pieces");

        assertOneLineError(() -> Tokenizers.load(SharedData.require("models/llama3-tokenizer/tokenizer.model"), 32000), "more tokens than the model");
    }
}
