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
}
