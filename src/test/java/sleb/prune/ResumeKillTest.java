package sleb.prune;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.SharedData;

/**
 * kill -9 at random moments, then --resume, until the run finishes; ten times. Each run is a child JVM
 * (java.home, this test's class path, sleb.cli.Main) so the kill is a real SIGKILL of the process writing
 * run.json. The result must match an uninterrupted run: same removal order, same candidates in every
 * phase, bit-identical losses (the CPU kernels use only lane-wise IEEE operations, so JIT state cannot change a result).
 * The children pause 120 ms after each saved candidate (-Dsleb.prune.candidateDelayMs) so that the random
 * kills land inside phases and not only in JVM start-up, which otherwise dominates on this tiny model.
 */
public class ResumeKillTest {
    private Path dir, calib;
    private String model;

    @BeforeClass
    public void setUp() throws Exception {
        model = SharedData.require("models/stories260K/stories260K.bin").toString();
        String text = Files.readString(SharedData.require("data/wikitext-2-raw/wiki.valid.raw"), StandardCharsets.UTF_8);
        dir = Files.createTempDirectory("prune-resume");
        calib = dir.resolve("calib.txt");
        Files.writeString(calib, text.substring(0, 12000));
    }

    private List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", model, "--calib", calib.toString(), "--calib-sampling", "random",
                "--nsamples", "16", "--seqlen", "128", "--seed", "3", "--remove", "4", "--early-barrier", "0", "--latter-barrier", "0",
                "--batch", "2", "--no-bos", "--quiet", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    private Process start(Path out, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xmx512m", "-Dsleb.prune.candidateDelayMs=120", "-cp", System.getProperty("java.class.path"), "sleb.cli.Main"));
        cmd.addAll(args(out, extra));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve("child.err").toFile()).start();
    }

    @Test
    public void killAndResumeTenTimes() throws Exception {
        Path refOut = dir.resolve("ref.json");
        long t0 = System.nanoTime();
        Process ref = start(refOut);
        assertEquals(ref.waitFor(), 0, Files.readString(dir.resolve("child.err")));
        long refMillis = (System.nanoTime() - t0) / 1_000_000;
        PruneState want = PruneState.read(refOut);
        SplittableRandom rnd = new SplittableRandom(20240601);
        int totalKills = 0, midPhaseResumes = 0, progressedResumes = 0;
        for (int trial = 0; trial < 10; trial++) {
            Path out = dir.resolve("trial" + trial + ".json");
            int kills = 0;
            while (true) {
                if (Files.exists(out)) {
                    PruneState s = PruneState.read(out);
                    if (!s.phases.isEmpty()) progressedResumes++;
                    if (!s.phases.isEmpty() && !s.phases.get(s.phases.size() - 1).complete) midPhaseResumes++;
                }
                Process p = start(out, "--resume");
                boolean done;
                if (kills < 2) {
                    done = p.waitFor(rnd.nextLong(refMillis / 4, Math.max(100, refMillis)), TimeUnit.MILLISECONDS);
                } else {
                    done = p.waitFor(120, TimeUnit.SECONDS);
                }
                if (done) {
                    assertEquals(p.exitValue(), 0, Files.readString(dir.resolve("child.err")));
                    break;
                }
                p.destroyForcibly();
                p.waitFor();
                kills++;
            }
            totalKills += kills;
            PruneState got = PruneState.read(out);
            assertEquals(got.status, "done");
            assertEquals(got.removal_order, want.removal_order, "trial " + trial);
            assertEquals(got.phases.size(), want.phases.size());
            for (int ph = 0; ph < want.phases.size(); ph++) {
                List<PruneState.Candidate> a = got.phases.get(ph).candidates, b = want.phases.get(ph).candidates;
                assertEquals(a.size(), b.size(), "trial " + trial + " phase " + ph);
                for (int c = 0; c < b.size(); c++) {
                    assertEquals(a.get(c).block, b.get(c).block);
                    assertEquals(a.get(c).loss, b.get(c).loss, 0.0, "trial " + trial + " phase " + ph + " candidate " + c);
                }
            }
        }
        System.out.println("ResumeKillTest: uninterrupted run " + refMillis + " ms; " + totalKills + " kills over 10 trials, "
                + progressedResumes + " resumes found candidates done, " + midPhaseResumes + " of them inside a phase");
        assertTrue(totalKills >= 10, "the kills should land before the runs finish (" + totalKills + ")");
        assertTrue(midPhaseResumes >= 3, "some kills should land inside a phase after a candidate was saved (" + midPhaseResumes + ")");
    }

    private static String[] with(List<String> a, String flag, String value) {
        a.set(a.indexOf(flag) + 1, value);
        return a.toArray(new String[0]);
    }

    @Test
    public void changedSettingsAreRefused() throws Exception {
        Path out = dir.resolve("refuse.json");
        sleb.CliRun r = PruneCliErrorsTest.run(args(out).toArray(new String[0]));
        assertEquals(r.code, 0, r.err);
        r = PruneCliErrorsTest.run(with(args(out, "--resume"), "--early-barrier", "1"));
        assertEquals(r.code, 2);
        assertTrue(r.err.contains("the setting 'early_barrier' changed"), r.err);
        r = PruneCliErrorsTest.run(with(args(out, "--resume"), "--seed", "4"));
        assertTrue(r.err.contains("the calibration 'seed' changed"), r.err);
        Path other = dir.resolve("calib2.txt");
        Files.writeString(other, Files.readString(calib).substring(1000));
        List<String> a = args(out, "--resume");
        a.set(a.indexOf(calib.toString()), other.toString());
        r = PruneCliErrorsTest.run(a.toArray(new String[0]));
        assertTrue(r.err.contains("calibration tokens changed"), r.err);
        Path bin = dir.resolve("model.bin");
        Files.copy(Path.of(model), bin);
        byte[] bytes = Files.readAllBytes(bin);
        bytes[28] ^= 0x40; // first embedding value
        Files.write(bin, bytes);
        Files.copy(Path.of(model).resolveSibling("tok512.bin"), dir.resolve("tok512.bin"));
        a = args(out, "--resume");
        a.set(a.indexOf(model), bin.toString());
        r = PruneCliErrorsTest.run(a.toArray(new String[0]));
        assertTrue(r.err.contains("the model changed"), r.err);
        r = PruneCliErrorsTest.run(args(out, "--resume").toArray(new String[0]));
        assertEquals(r.code, 0, r.err);
    }
}
