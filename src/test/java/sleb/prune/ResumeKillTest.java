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
 * The children pause 120 ms after each saved candidate (-Dsleb.prune.candidateDelayMs); the test kills a
 * random short time after a chosen number of candidates is saved, so kills land inside phases (and, on
 * purpose, a few in start-up) on a fast or a loaded machine alike.
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
                "--nsamples", "16", "--seqlen", "128", "--seed", "3", "--num-remove-blocks", "4", "--early-barrier", "0", "--latter-barrier", "0",
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

    /** Candidates saved so far in the state file, or -1 while there is none (it is renamed into place whole). */
    private static int savedCandidates(Path out) throws Exception {
        if (!Files.exists(out)) return -1;
        return PruneState.read(out).phases.stream().mapToInt(ph -> ph.candidates.size()).sum();
    }

    /**
     * SIGKILLs p once the state file holds at least target candidates, after a further delay shorter than the
     * children's 120 ms pause per candidate; false when p finished by itself first. Kills keyed to progress,
     * not to wall time, land inside the run however loaded the machine is.
     */
    private static boolean killAfter(Process p, Path out, int target, long delayMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && savedCandidates(out) < target) {
            if (System.nanoTime() > deadline) throw new AssertionError("no progress in 120 s");
            Thread.sleep(5);
        }
        Thread.sleep(delayMs);
        if (!p.isAlive()) return false;
        p.destroyForcibly();
        p.waitFor();
        return true;
    }

    @Test
    public void killAndResumeTenTimes() throws Exception {
        Path refOut = dir.resolve("ref.json");
        Process ref = start(refOut);
        assertEquals(ref.waitFor(), 0, Files.readString(dir.resolve("child.err")));
        PruneState want = PruneState.read(refOut);
        int total = want.phases.stream().mapToInt(ph -> ph.candidates.size()).sum();
        SplittableRandom rnd = new SplittableRandom(20240601);
        int totalKills = 0, startupKills = 0, midPhaseResumes = 0, progressedResumes = 0;
        for (int trial = 0; trial < 10; trial++) {
            Path out = dir.resolve("trial" + trial + ".json");
            int kills = 0;
            while (true) {
                int saved = savedCandidates(out);
                if (saved >= 0) {
                    PruneState s = PruneState.read(out);
                    if (!s.phases.isEmpty()) progressedResumes++;
                    if (!s.phases.isEmpty() && !s.phases.get(s.phases.size() - 1).complete) midPhaseResumes++;
                }
                Process p = start(out, "--resume");
                // The first kill of a trial sometimes lands in start-up (before anything new is saved); the others
                // after one to three more candidates.
                int more = kills == 0 && trial % 3 == 0 ? 0 : rnd.nextInt(1, 4);
                int target = Math.max(saved, 0) + more;
                boolean killed = kills < 2 && target < total && killAfter(p, out, target, more == 0 ? rnd.nextLong(0, 400) : rnd.nextLong(0, 100));
                if (!killed) {
                    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a resumed run did not finish in 120 s");
                    assertEquals(p.exitValue(), 0, Files.readString(dir.resolve("child.err")));
                    break;
                }
                kills++;
                if (more == 0) startupKills++;
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
        System.out.println("ResumeKillTest: " + totalKills + " kills over 10 trials (" + startupKills + " in start-up), "
                + progressedResumes + " resumes found candidates done, " + midPhaseResumes + " of them inside a phase");
        assertTrue(totalKills >= 15, "the kills should land before the runs finish (" + totalKills + ")");
        assertTrue(midPhaseResumes >= 3, "some kills should land inside a phase after a candidate was saved (" + midPhaseResumes + ")");
    }

    private static String[] with(List<String> a, String flag, String value) {
        a.set(a.indexOf(flag) + 1, value);
        return a.toArray(new String[0]);
    }

    @Test
    public void changedSettingsAreRefused() throws Exception {
        Path out = dir.resolve("refuse.json");
        sleb.CliRun r = sleb.CliRun.run(args(out).toArray(new String[0]));
        assertEquals(r.code, 0, r.err);
        r = sleb.CliRun.run(with(args(out, "--resume"), "--early-barrier", "1"));
        r.assertErrorLine("changed --early-barrier", "the setting 'early_barrier' changed");
        r = sleb.CliRun.run(with(args(out, "--resume"), "--seed", "4"));
        r.assertErrorLine("changed --seed", "the calibration 'seed' changed");
        Path other = dir.resolve("calib2.txt");
        Files.writeString(other, Files.readString(calib).substring(1000));
        List<String> a = args(out, "--resume");
        a.set(a.indexOf(calib.toString()), other.toString());
        r = sleb.CliRun.run(a.toArray(new String[0]));
        r.assertErrorLine("changed calibration text", "calibration tokens changed");
        Path bin = dir.resolve("model.bin");
        Files.copy(Path.of(model), bin);
        byte[] bytes = Files.readAllBytes(bin);
        bytes[28] ^= 0x40; // first embedding value
        Files.write(bin, bytes);
        Files.copy(Path.of(model).resolveSibling("tok512.bin"), dir.resolve("tok512.bin"));
        a = args(out, "--resume");
        a.set(a.indexOf(model), bin.toString());
        r = sleb.CliRun.run(a.toArray(new String[0]));
        r.assertErrorLine("changed model", "the model changed");
        r = sleb.CliRun.run(args(out, "--resume").toArray(new String[0]));
        assertEquals(r.code, 0, r.err);
    }
}
