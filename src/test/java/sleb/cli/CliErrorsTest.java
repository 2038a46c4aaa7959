package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/** Bad input ends in one line on stderr naming the problem, exit code 2, and no output file. */
public class CliErrorsTest {

    @DataProvider
    public Object[][] badRuns() throws Exception {
        String model = SharedData.path("models/stories260K/stories260K.bin").toString();
        String text = SharedData.path("data/wikitext-2-raw/wiki.test.raw").toString();
        Path tiny = Files.createTempFile("tiny", ".txt");
        Files.writeString(tiny, "Once upon a time.");
        return new Object[][] {
            {"missing model", new String[] {"eval", "--model", "/nonexistent/m.bin", "--data", "wikitext2=" + text}, "does not exist"},
            {"block out of range", new String[] {"eval", "--device", "cpu", "--model", model, "--data", "wikitext2=" + text, "--remove", "7"}, "not a block"},
            {"too little text", new String[] {"eval", "--device", "cpu", "--model", model, "--data", "tiny=" + tiny, "--seqlen", "512"}, "less than one window"},
            {"bad data spec", new String[] {"eval", "--device", "cpu", "--model", model, "--data", text}, "NAME=PATH"},
            {"missing data", new String[] {"eval", "--device", "cpu", "--model", model, "--data", "x=/nonexistent.txt"}, "does not exist"},
            {"unknown device", new String[] {"eval", "--device", "tpu", "--model", model, "--data", "wikitext2=" + text}, "device"},
            // results are kept per NAME: a second file under the same name would be reported with the first one's perplexity
            {"dataset name twice", new String[] {"eval", "--device", "cpu", "--model", model, "--data", "x=" + text, "--data", "x=" + tiny}, "names dataset 'x' twice"},
            {"corrupt tokenizer", new String[] {"eval", "--device", "cpu", "--model", model, "--tokenizer", tiny.toString(), "--data", "wikitext2=" + text}, tiny.getFileName().toString()},
        };
    }

    /** Picocli's own errors (unknown command or flag, bad value, missing option): one line, exit 2, no usage dump. */
    @Test
    public void commandLineMistakesGiveOneLine() {
        Object[][] cases = {
            {new String[] {"evl"}, "'evl' (did you mean eval?); see 'sleb --help'"},
            {new String[] {"eval", "--data", "a=b"}, "Missing required option: '--model=M'; see 'sleb eval --help'"},
            {new String[] {"eval", "--model", "m", "--data", "a=b", "--seqlen", "abc"}, "'abc' is not an int; see 'sleb eval --help'"},
            {new String[] {"prune", "--model", "m", "--calib", "c", "--num-remove-blocks", "2", "--bogus"}, "Unknown option: '--bogus'"},
        };
        for (Object[] c : cases) {
            CliRun r = CliRun.run((String[]) c[0]);
            r.assertErrorLine(String.join(" ", (String[]) c[0]), (String) c[1]);
            assertEquals(r.err.strip().split("\n").length, 1, "one line: " + r.err);
        }
    }

    @Test(dataProvider = "badRuns")
    public void failsWithOneClearLine(String what, String[] args, String mentions) throws Exception {
        SharedData.require("models/stories260K/stories260K.bin");
        SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Path out = Files.createTempDirectory("sleb-cli").resolve("results.json");
        CliRun r = CliRun.run(CliRun.concat(args, "--out", out.toString()));
        r.assertErrorLine(what, mentions);
        assertTrue(!Files.exists(out), what + ": no results file may be left");
    }

    @Test
    public void goodRunWritesResults() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        Path out = Files.createTempDirectory("sleb-cli").resolve("r.json");
        CliRun r = CliRun.run("eval", "--device", "cpu", "--model", model, "--data", "wikitext2=" + text, "--seqlen", "256", "--max-windows", "2",
                "--no-bos", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        String json = Files.readString(out);
        assertTrue(json.contains("\"windows\": 2") && json.contains("\"ppl\""), json);
    }

    /**
     * Every numeric flag out of its range is refused with the range (never read as "all" or "auto"), before
     * anything is loaded: stderr holds the error line alone.
     */
    @Test
    public void outOfRangeNumbersAreRefusedWithTheRange() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        Path tiny = Files.writeString(Files.createTempFile("tiny", ".txt"), "Once upon a time. ".repeat(50));
        Path zs = Files.createTempDirectory("zs");
        String[] eval = {"eval", "--device", "cpu", "--model", model, "--data", "x=" + tiny, "--seqlen", "16", "--no-bos"};
        String[] zeroshot = {"zeroshot", "--device", "cpu", "--model", model, "--tasks", "piqa", "--data-dir", zs.toString()};
        Object[][] cases = {
            {CliRun.concat(eval, "--max-windows", "0"), "--max-windows must be at least 1, got 0"},
            {CliRun.concat(eval, "--max-windows", "-3"), "--max-windows must be at least 1, got -3"},
            {CliRun.concat(eval, "--batch", "0"), "--batch must be at least 1, got 0"},
            {CliRun.concat(zeroshot, "--limit", "0"), "--limit must be at least 1, got 0"},
            {CliRun.concat(zeroshot, "--batch", "-1"), "--batch must be at least 1, got -1"},
            {new String[] {"generate", "--model", model, "--max-tokens", "0"}, "--max-tokens must be at least 1, got 0"},
            {new String[] {"synth", "--shape", "stories110m", "--layers", "0", "--out", zs.resolve("s").toString()}, "--layers must be at least 1, got 0"},
            {new String[] {"bench", "--synthetic", "stories110m", "--mode", "prompt", "--threads", "0"}, "--threads must be at least 1, got 0"},
            {new String[] {"bench", "--synthetic", "stories110m", "--mode", "prompt", "--warmup", "-1"}, "--warmup must be at least 0, got -1"},
            {new String[] {"bench", "--synthetic", "stories110m", "--mode", "prompt", "--iters", "0"}, "--iters must be at least 1, got 0"},
        };
        for (Object[] c : cases) {
            CliRun r = CliRun.run((String[]) c[0]);
            r.assertErrorLine(String.join(" ", (String[]) c[0]), (String) c[1]);
            assertEquals(r.err.strip().split("\n").length, 1, "refused before loading: " + r.err);
        }
    }

    /** Every command that writes checks its output paths before loading a model (the check prune uses). */
    @Test
    public void outputsAreCheckedBeforeLoading() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        Path dir = Files.createTempDirectory("outs");
        Path text = Files.writeString(dir.resolve("t.txt"), "Once upon a time. ".repeat(50));
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        Path file = Files.writeString(dir.resolve("file"), "x");
        Object[][] cases = {
            {new String[] {"export", "--model", model, "--remove", "1", "--out", full.toString()}, "--out " + full + " exists and is not empty"},
            {new String[] {"export", "--model", model, "--remove", "1", "--out", file.resolve("sub").toString()}, "is a file, not a directory"},
            {new String[] {"export", "--model", SharedData.require("models/stories260K-hf").toString(), "--remove", "1", "--out", dir.resolve("e").toString(),
                    "--format", "llama2c"}, "--format llama2c needs a llama2.c source model"},
            {new String[] {"eval", "--model", model, "--data", "x=" + text, "--out", full.toString()}, "--out " + full + " is a directory"},
            {new String[] {"eval", "--model", model, "--data", "x=" + full}, "--data x " + full + " is a directory; give a file"},
            {new String[] {"tokenize", "--model", model, "--data", "x=" + text, "--out", full.toString()}, "--out " + full + " is a directory"},
            {new String[] {"synth", "--shape", "stories110m", "--layers", "1", "--out", full.toString()}, "--out " + full + " exists and is not empty"},
            {new String[] {"bench", "--synthetic", "stories110m", "--mode", "prompt", "--out", dir.resolve("b.json").toString(),
                    "--chart", dir.resolve("b.json").toString()}, "--out and --chart are the same path"},
            {new String[] {"info", "--model", full.resolve("x").resolve("m.bin").toString()}, "does not exist"},
            {new String[] {"zeroshot", "--model", model, "--tasks", "piqa", "--task-file", "piqa=" + full}, "--task-file piqa " + full + " is a directory; give a file"},
        };
        for (Object[] c : cases) {
            String[] args = (String[]) c[0];
            CliRun r = CliRun.run(args);
            r.assertErrorLine(String.join(" ", args), (String) c[1]);
            assertEquals(r.err.strip().split("\n").length, 1, "refused before loading: " + r.err);
        }
        assertTrue(!Files.exists(dir.resolve("e")) && !Files.exists(dir.resolve("b.json")));
    }

    /** `sleb` alone is an incomplete command line: usage on stderr, nothing on stdout, exit code 2. */
    @Test
    public void noCommandPrintsUsageToStderr() {
        CliRun r = CliRun.run();
        assertEquals(r.code, 2, r.err);
        assertEquals(r.out, "");
        assertTrue(r.err.startsWith("Usage: sleb") && r.err.contains("prune"), r.err);
    }

    /** Every command that runs for long can be silenced. */
    @Test
    public void longRunningCommandsHaveQuiet() {
        for (String cmd : new String[] {"prune", "eval", "zeroshot", "bench"}) {
            CliRun r = CliRun.run(cmd, "--help");
            assertEquals(r.code, 0, r.err);
            assertTrue(r.out.contains("--quiet"), cmd + " --help: " + r.out);
        }
    }
}
