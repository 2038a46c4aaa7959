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
        refused(CliRun.run(base(out, "--remove", "4")), "leave 3 candidates, so at most 3 can be removed");
        refused(CliRun.run(base(out, "--remove", "5", "--early-barrier", "0", "--latter-barrier", "0")), "would leave no block");
        refused(CliRun.run(base(out, "--remove", "0")), "--remove must be at least 1");
    }

    @Test
    public void badFlags() throws Exception {
        Path out = Files.createTempDirectory("prune-err").resolve("run.json");
        refused(CliRun.run(base(out, "--remove", "1", "--metric", "magnitude")), "--metric magnitude is not one of");
        refused(CliRun.run(base(out, "--remove", "1", "--calib-sampling", "shuffled")), "--calib-sampling shuffled is not one of");
        refused(CliRun.run(base(out, "--remove-ratio", "1.5")), "--remove-ratio must be between 0 and 1");
        refused(CliRun.run(base(out, "--remove", "1", "--remove-ratio", "0.2")), "mutually exclusive");
        refused(CliRun.run(base(out)), "Missing required argument");
        assertTrue(!Files.exists(out));
    }

    @Test
    public void tooShortCalibration() throws Exception {
        Path dir = Files.createTempDirectory("prune-err");
        Path small = dir.resolve("small.txt");
        Files.writeString(small, "Once upon a time there was a little dog. ".repeat(10));
        String m = SharedData.require("models/stories260K/stories260K.bin").toString();
        String[] common = {"prune", "--model", m, "--calib", small.toString(), "--seqlen", "256", "--no-bos", "--quiet", "--remove", "1", "--out", dir.resolve("r.json").toString()};
        CliRun r = CliRun.run(CliRun.concat(common, "--calib-sampling", "contiguous", "--nsamples", "4"));
        refused(r, "complete windows of --seqlen 256, but --nsamples 4 asks for 4");
        refused(CliRun.run(CliRun.concat(common, "--calib-sampling", "random", "--nsamples", "4")), "random sampling of --seqlen 256 windows needs at least 257");
        refused(CliRun.run(CliRun.concat(common, "--calib-sampling", "rows", "--nsamples", "4")), "has 1 rows but --nsamples 4");
        refused(CliRun.run(CliRun.concat(new String[] {"prune", "--model", m, "--calib", dir.resolve("nope.txt").toString(), "--remove", "1", "--quiet"})), "does not exist");
    }

    @Test
    public void ratioRoundsUp() {
        assertEquals(BlockSearch.removeFromRatio(0.2, 32), 7); // ceil(6.4), as the official latency script
        assertEquals(BlockSearch.removeFromRatio(0.25, 32), 8);
        assertEquals(BlockSearch.removeFromRatio(0.2, 5), 1);
    }
}
