package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/**
 * GGUF through the command line: a GGUF model runs every command without --tokenizer, `prune --export --format gguf`
 * writes one, and what cannot become GGUF is refused in one line before any long work, leaving no output behind.
 */
public class GgufCliTest {
    private static final String STORIES = "models/stories260K/stories260K.bin", TOK = "models/stories260K/tok512.bin";

    private static Path exported() throws Exception {
        Path out = Files.createTempDirectory("gguf-cli").resolve("e");
        CliRun r = CliRun.run("export", "--model", SharedData.require(STORIES).toString(), "--remove", "2", "--format", "gguf", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        assertTrue(r.out.contains("38 F32; tokenizer llama, 512 tokens"), r.out);
        return out.resolve("model.gguf");
    }

    /** eval and generate on the GGUF file (its own tokenizer) print what they print on the source with block 2 removed. */
    @Test
    public void ggufModelRunsWithoutTokenizerFlag() throws Exception {
        Path gguf = exported();
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        String src = SharedData.require(STORIES).toString();
        CliRun a = CliRun.run("eval", "--device", "cpu", "--model", gguf.toString(), "--data", "w=" + text, "--seqlen", "128", "--max-windows", "3");
        CliRun b = CliRun.run("eval", "--device", "cpu", "--model", src, "--remove", "2", "--data", "w=" + text, "--seqlen", "128", "--max-windows", "3");
        assertEquals(a.code, 0, a.err);
        assertEquals(b.code, 0, b.err);
        assertEquals(a.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"), b.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"));
        CliRun g = CliRun.run("generate", "--device", "cpu", "--model", gguf.getParent().toString(), "--prompt", "Once upon a time", "--max-tokens", "12");
        CliRun h = CliRun.run("generate", "--device", "cpu", "--model", src, "--remove", "2", "--prompt", "Once upon a time", "--max-tokens", "12");
        assertEquals(g.code, 0, g.err);
        assertEquals(h.code, 0, h.err);
        assertEquals(g.out.lines().filter(l -> l.contains("Once upon")).findFirst().orElse("?"), h.out.lines().filter(l -> l.contains("Once upon")).findFirst().orElse("!"));
        CliRun i = CliRun.run("info", "--model", gguf.toString());
        assertEquals(i.code, 0, i.err);
        assertTrue(i.out.contains("(GGUF)") && i.out.contains("4 blocks") && i.out.contains("tokenizer llama"), i.out);
    }

    @Test
    public void pruneExportsGguf() throws Exception {
        Path dir = Files.createTempDirectory("gguf-prune");
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        CliRun r = CliRun.run("prune", "--device", "cpu", "--model", SharedData.require(STORIES).toString(), "--calib", text, "--nsamples", "2",
                "--seqlen", "64", "--no-bos", "--quiet", "--num-remove-blocks", "1", "--out", dir.resolve("run.json").toString(),
                "--export", dir.resolve("x").toString(), "--format", "gguf", "--outtype", "q8_0");
        assertEquals(r.code, 0, r.err);
        CliRun i = CliRun.run("info", "--model", dir.resolve("x").resolve("model.gguf").toString());
        assertEquals(i.code, 0, i.err);
        assertTrue(i.out.contains("4 blocks") && i.out.contains("Q8_0 dequantized to F32 on load"), i.out);
    }

    @Test
    public void whatCannotBecomeGgufIsRefusedInOneLine() throws Exception {
        Path dir = Files.createTempDirectory("gguf-refuse");
        String stories = SharedData.require(STORIES).toString();
        CliRun.run("export", "--model", stories, "--format", "gguf", "--outtype", "q4_k", "--out", dir.resolve("a").toString())
                .assertErrorLine("unknown outtype", "--outtype q4_k is not one of auto, f32, f16, bf16, q8_0");
        CliRun.run("export", "--model", stories, "--format", "hf", "--outtype", "f16", "--out", dir.resolve("b").toString())
                .assertErrorLine("outtype without gguf", "--outtype applies to --format gguf only");
        CliRun.run("export", "--model", SharedData.require("models/stories260K-hf").toString(), "--format", "gguf", "--out", dir.resolve("c").toString())
                .assertErrorLine("no tokenizer beside an HF copy", "a GGUF export embeds the tokenizer, and none was found beside the model");
        Path opt = SharedData.require("models/opt-tiny/opt-tiny-preln");
        CliRun.run("export", "--model", opt.toString(), "--tokenizer", SharedData.require(TOK).toString(), "--format", "gguf", "--out", dir.resolve("d").toString())
                .assertErrorLine("OPT source", "GGUF export writes llama.cpp's llama architecture; this model is opt");
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        CliRun.run("prune", "--device", "cpu", "--model", opt.toString(), "--tokenizer", SharedData.require(TOK).toString(), "--calib", text,
                "--nsamples", "2", "--seqlen", "64", "--no-bos", "--quiet", "--num-remove-blocks", "1", "--out", dir.resolve("run.json").toString(),
                "--export", dir.resolve("e").toString(), "--format", "gguf")
                .assertErrorLine("prune of an OPT model to GGUF, before the selection", "this model is opt");
        assertFalse(Files.exists(dir.resolve("run.json")), "refused before the selection wrote its record");
        for (String d : new String[] {"a", "b", "c", "d", "e"}) assertFalse(Files.exists(dir.resolve(d)), d + " left behind");
    }
}
