package sleb.eval;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/**
 * --seqlen against the model's trained context (stories260K: seq_len 512 in the llama2.c header,
 * max_position_embeddings 512 in the HF copy) and against memory.
 */
public class ContextLengthTest {
    private static String[] eval(String model, String... more) {
        String text = SharedData.require("data/wikitext-2-raw/wiki.test.raw").toString();
        return CliRun.concat(new String[] {"eval", "--device", "cpu", "--model", model, "--data", "wikitext2=" + text, "--max-windows", "1", "--no-bos"}, more);
    }

    @Test
    public void defaultIsTheTrainedContextUpTo2048AndIsPrinted() {
        String bin = SharedData.require("models/stories260K/stories260K.bin").toString();
        CliRun r = CliRun.run(eval(bin));
        assertEquals(r.code, 0, r.err);
        assertTrue(r.err.contains("--seqlen 512 (default: min(2048, the model's trained context, seq_len 512))"), r.err);
        assertTrue(r.out.contains("seqlen 512,"), r.out);
        String hf = SharedData.require("models/stories260K-hf").toString();
        String tok = SharedData.require("models/stories260K/tok512.bin").toString();
        CliRun h = CliRun.run(eval(hf, "--tokenizer", tok));
        assertEquals(h.code, 0, h.err);
        assertTrue(h.err.contains("--seqlen 512 (default: min(2048, the model's trained context, max_position_embeddings 512))"), h.err);
        assertTrue(!h.err.contains("warning"), h.err);
    }

    @Test
    public void longerThanTrainedWarnsNamingBothNumbers() {
        String bin = SharedData.require("models/stories260K/stories260K.bin").toString();
        CliRun r = CliRun.run(eval(bin, "--seqlen", "1024"));
        assertEquals(r.code, 0, r.err);
        assertTrue(r.err.contains("warning: --seqlen 1024 is longer than the model's trained context (seq_len 512)"), r.err);
        assertTrue(r.out.contains("seqlen 1024,"), r.out);
        CliRun fits = CliRun.run(eval(bin, "--seqlen", "512"));
        assertEquals(fits.code, 0, fits.err);
        assertTrue(!fits.err.contains("warning") && !fits.err.contains("(default"), fits.err);
    }

    /** 64 windows of 100000 tokens: 6.4e6 rows x (2*64 + 2*64 + 3*32 + 2*172) floats x 4 bytes, refused before any work. */
    @Test
    public void windowThatCannotFitIsRefusedWithTheBytesNeeded() {
        String bin = SharedData.require("models/stories260K/stories260K.bin").toString();
        long need = 64L * 100000 * (2 * 64 + 2 * 64 + 3 * 32 + 2 * 172) * 4;
        assertEquals(need, 17_817_600_000L);
        CliRun r = CliRun.run(eval(bin, "--seqlen", "100000", "--batch", "64"));
        r.assertErrorLine("seqlen 100000 x 64", need + " bytes");
        assertTrue(r.err.contains("warning: --seqlen 100000 is longer than the model's trained context (seq_len 512)"), r.err);
    }

    @Test
    public void pruneUsesTheSameDefault() throws Exception {
        String bin = SharedData.require("models/stories260K/stories260K.bin").toString();
        String calib = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        Path out = Files.createTempDirectory("ctx-prune").resolve("run.json");
        CliRun r = CliRun.run("prune", "--device", "cpu", "--model", bin, "--calib", calib, "--calib-sampling", "contiguous", "--nsamples", "2",
                "--no-bos", "--num-remove-blocks", "1", "--quiet", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        assertTrue(r.err.contains("--seqlen 512 (default: min(2048, the model's trained context, seq_len 512))"), r.err);
        JsonObject run = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertEquals(run.getAsJsonObject("calibration").get("seqlen").getAsInt(), 512);
    }
}
