package sleb.prune;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/** `sleb prune` refuses bad requests with exit code 2 and one line that says what to change. */
public class PruneCliErrorsTest {

    private static String[] base(Path out, String... more) {
        String m = SharedData.require("models/stories260K/stories260K.bin").toString();
        String c = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        String[] b = {"prune", "--model", m, "--calib", c, "--nsamples", "2", "--seqlen", "64", "--no-bos", "--quiet", "--out", out.toString()};
        boolean sampling = java.util.Arrays.asList(more).contains("--calib-sampling");
        return sampling ? CliRun.concat(b, more) : CliRun.concat(CliRun.concat(b, "--calib-sampling", "contiguous"), more);
    }

    private static void refused(CliRun r, String fragment) {
        r.assertErrorLine("expected '" + fragment + "'", fragment);
    }

    @Test
    public void tooManyRemovals() throws Exception {
        Path out = Files.createTempDirectory("prune-err").resolve("run.json");
        refused(CliRun.run(base(out, "--num-remove-blocks", "4")), "leave 3 candidates, so at most 3 can be removed");
        refused(CliRun.run(base(out, "--num-remove-blocks", "5", "--early-barrier", "0", "--latter-barrier", "0")), "would leave no block of this model's 5; remove at most 4");
        // with the default barriers (1 and 1) the limit is 3, and the message must say 3, not 4
        refused(CliRun.run(base(out, "--num-remove-blocks", "5")), "remove at most 3 (barriers: early 1, latter 1)");
        refused(CliRun.run(base(out, "--num-remove-blocks", "0")), "--num-remove-blocks must be at least 1, got 0");
    }

    @Test
    public void badFlags() throws Exception {
        Path out = Files.createTempDirectory("prune-err").resolve("run.json");
        refused(CliRun.run(base(out, "--num-remove-blocks", "1", "--metric", "magnitude")), "--metric magnitude is not one of");
        refused(CliRun.run(base(out, "--num-remove-blocks", "1", "--calib-sampling", "shuffled")), "--calib-sampling shuffled is not one of");
        refused(CliRun.run(base(out, "--remove-ratio", "1.5")), "--remove-ratio must be between 0 and 1");
        refused(CliRun.run(base(out, "--num-remove-blocks", "1", "--remove-ratio", "0.2")), "not both");
        refused(CliRun.run(base(out)), "give the number of blocks to remove: --num-remove-blocks N or --remove-ratio R");
        assertTrue(!Files.exists(out));
    }

    @Test
    public void tooShortCalibration() throws Exception {
        Path dir = Files.createTempDirectory("prune-err");
        Path small = dir.resolve("small.txt");
        Files.writeString(small, "Once upon a time there was a little dog. ".repeat(10));
        String m = SharedData.require("models/stories260K/stories260K.bin").toString();
        String[] common = {"prune", "--model", m, "--calib", small.toString(), "--seqlen", "256", "--no-bos", "--quiet", "--num-remove-blocks", "1", "--out", dir.resolve("r.json").toString()};
        CliRun r = CliRun.run(CliRun.concat(common, "--calib-sampling", "contiguous", "--nsamples", "4"));
        refused(r, "complete windows of --seqlen 256, but --nsamples 4 asks for 4");
        refused(CliRun.run(CliRun.concat(common, "--calib-sampling", "random", "--nsamples", "4")), "random sampling of --seqlen 256 windows needs at least 257");
        refused(CliRun.run(CliRun.concat(common, "--calib-sampling", "rows", "--nsamples", "4")), "has 1 rows but --nsamples 4");
        refused(CliRun.run(CliRun.concat(new String[] {"prune", "--model", m, "--calib", dir.resolve("nope.txt").toString(), "--num-remove-blocks", "1", "--quiet"})), "does not exist");
    }

    /** The count prune used to read from --remove is refused, naming the new flag (--remove is a block list elsewhere). */
    @Test
    public void oldRemoveSpellingIsRefused() throws Exception {
        Path out = Files.createTempDirectory("prune-err").resolve("run.json");
        refused(CliRun.run(base(out, "--remove", "2")), "prune --remove N is now --num-remove-blocks N");
        assertTrue(!Files.exists(out));
        CliRun b = CliRun.run("bench", "--synthetic", "stories110m", "--mode", "prompt", "--remove-ratio", "0.2");
        b.assertErrorLine("bench's old ratio flag", "bench --remove-ratio R is now --remove-last-ratio R");
    }

    /** Two --eval files under one NAME: refused before loading (results are kept per name, so one would hide the other). */
    @Test
    public void evalNameGivenTwiceIsRefused() throws Exception {
        Path out = Files.createTempDirectory("prune-err").resolve("run.json");
        String text = SharedData.require("data/wikitext-2-raw/wiki.test.raw").toString();
        String ptb = SharedData.require("data/ptb/ptb.test.txt").toString();
        CliRun r = CliRun.run(base(out, "--num-remove-blocks", "1", "--eval", "x=" + text, "--eval", "x=" + ptb));
        refused(r, "--eval names dataset 'x' twice");
        assertTrue(!r.err.contains("model:"), "refused before loading: " + r.err);
        assertTrue(!Files.exists(out));
    }

    /**
     * Everything prune could only find wrong after the selection is refused before the model is loaded: exit 2,
     * stderr holds the error line alone (no "model:" line, so nothing was loaded and no candidate ran), no output.
     */
    @Test
    public void badOutputsAndInputsFailBeforeAnyBlockIsEvaluated() throws Exception {
        Path dir = Files.createTempDirectory("prune-pre");
        Path out = dir.resolve("run.json");
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "x");
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        String hf = SharedData.require("models/stories260K-hf").toString();
        String test = SharedData.require("data/wikitext-2-raw/wiki.test.raw").toString();
        Object[][] cases = {
            {new String[] {"--export", full.toString()}, "--export " + full + " exists and is not empty"},
            {new String[] {"--export", out.toString()}, "--out and --export are the same path"},
            {new String[] {"--export", file.resolve("sub").toString()}, "is a file, not a directory"},
            {new String[] {"--eval", "wikitext2=" + dir.resolve("missing.raw")}, "--eval wikitext2 " + dir.resolve("missing.raw") + " does not exist"},
            {new String[] {"--eval", "wikitext2=" + full}, "is a directory; give a file"},
            {new String[] {"--eval", "wikitext2=" + test, "--eval-max-windows", "0"}, "--eval-max-windows must be at least 1, got 0"},
            {new String[] {"--batch", "-3"}, "--batch must be at least 1, got -3"},
        };
        for (Object[] c : cases) {
            String[] extra = (String[]) c[0];
            String[] args = CliRun.concat(base(out, "--num-remove-blocks", "1"), extra);
            CliRun r = CliRun.run(args);
            refused(r, (String) c[1]);
            assertEquals(r.err.strip().split("\n").length, 1, "only the error line: nothing loaded, no candidate evaluated: " + r.err);
            assertEquals(r.out, "", r.out);
            assertTrue(!Files.exists(out) && !Files.exists(dir.resolve("exp")) && !Files.exists(dir.resolve("e")), String.join(" ", extra));
        }
        String calib = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        CliRun llama2cFromHf = CliRun.run("prune", "--model", hf, "--calib", calib, "--num-remove-blocks", "1", "--quiet", "--out", out.toString(),
                "--export", dir.resolve("e").toString(), "--format", "llama2c");
        refused(llama2cFromHf, "--format llama2c needs a llama2.c source model");
        refused(CliRun.run("prune", "--model", hf, "--calib", full.toString(), "--num-remove-blocks", "1", "--quiet", "--out", out.toString()),
                "--calib " + full + " is a directory");
        assertEquals(llama2cFromHf.err.strip().split("\n").length, 1, llama2cFromHf.err);
        refused(CliRun.run(base(full, "--num-remove-blocks", "1")), "--out " + full + " is a directory");
        Path inside = dir.resolve("exp/run.json");
        refused(CliRun.run(base(inside, "--num-remove-blocks", "1", "--export", dir.resolve("exp").toString())),
                "--out " + inside + " is inside --export " + dir.resolve("exp"));
        assertTrue(!Files.exists(dir.resolve("exp")));
    }

    /** A failure after the selection says that --resume finishes the job from the saved selection, and it does. */
    @Test
    public void failureAfterSelectionSaysResumeFinishesIt() throws Exception {
        Path dir = Files.createTempDirectory("prune-late");
        Path out = dir.resolve("run.json");
        Path notC4 = Files.writeString(dir.resolve("plain.txt"), "plain text, not C4 JSON lines\n");
        CliRun r = CliRun.run(base(out, "--num-remove-blocks", "1", "--eval", "c4=" + notC4));
        refused(r, "the selection is saved in " + out + ": fix this and run the same `sleb prune ... --resume`");
        assertTrue(r.err.contains(notC4 + " line 1 is not valid JSON"), r.err);
        String order = PruneState.read(out).removal_order.toString();
        CliRun again = CliRun.run(base(out, "--num-remove-blocks", "1", "--resume"));
        assertEquals(again.code, 0, again.err);
        assertTrue(again.err.contains("resume: " + out + " has 1 removal(s) " + order), again.err);
        assertEquals(PruneState.read(out).status, "done");
        // a refused resume prints the run file's numbers as they were written: 1, not 1.0
        refused(CliRun.run(base(out, "--num-remove-blocks", "2", "--resume")), "the setting 'num_remove_blocks' changed (1 in the run file, 2 now)");
    }
}
