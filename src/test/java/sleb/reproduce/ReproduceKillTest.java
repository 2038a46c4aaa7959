package sleb.reproduce;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;

import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/**
 * `sleb reproduce` SIGKILLed at random moments (a child JVM, killed with destroyForcibly) and rerun until it finishes
 * on stories260K and the pre-LN OPT fixture gives the same tables as a run never interrupted: every perplexity and accuracy bit-identical, every removal order
 * the same, every cell filled or marked. The latency protocols are off here (--no-bench), since their figures are
 * timings and differ between any two runs; {@link ReproduceRunTest} covers them.
 */
public class ReproduceKillTest {
    private Path dir, calib, wiki;
    private String model, opt, tok;

    @BeforeClass
    public void setUp() throws Exception {
        model = SharedData.require("models/stories260K/stories260K.bin").toString();
        opt = SharedData.require("models/opt-tiny/opt-tiny-preln").toString();
        tok = SharedData.require("models/stories260K/tok512.bin").toString();
        SharedData.require("data/zeroshot/piqa/valid.jsonl");
        dir = Files.createTempDirectory("reproduce-kill");
        calib = dir.resolve("calib.txt");
        Files.writeString(calib, Files.readString(SharedData.require("data/wikitext-2-raw/wiki.valid.raw"), StandardCharsets.UTF_8).substring(0, 12000));
        wiki = dir.resolve("wiki.txt");
        Files.writeString(wiki, Files.readString(SharedData.require("data/wikitext-2-raw/wiki.test.raw"), StandardCharsets.UTF_8).substring(0, 20000));
    }

    private List<String> args(Path out) {
        return new ArrayList<>(List.of("reproduce", "--models", model + "," + opt, "--tokenizer", tok, "--calib", calib.toString(), "--wikitext2", wiki.toString(),
                "--zeroshot-dir", SharedData.path("data/zeroshot").toString(), "--ratios", "0.2,0.4", "--seqlen", "64", "--nsamples", "4",
                "--eval-max-windows", "6", "--zeroshot-limit", "12", "--no-bench", "--device", "cpu", "--quiet", "--out", out.toString()));
    }

    private Process start(Path out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "sleb.cli.Main"));
        cmd.addAll(args(out));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve("child.err").toFile()).start();
    }

    private static String figures(Path out, String table) throws Exception {
        return JsonParser.parseString(Files.readString(out.resolve(table + ".json"))).getAsJsonObject().get("figures").toString();
    }

    @Test
    public void killedAndRerunGivesTheSameTables() throws Exception {
        Path ref = dir.resolve("ref");
        long t0 = System.nanoTime();
        CliRun r = CliRun.run(args(ref).toArray(String[]::new));
        assertEquals(r.code, 0, r.err);
        long refMs = (System.nanoTime() - t0) / 1_000_000;

        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        Path out = dir.resolve("killed");
        int kills = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            Process p = start(out);
            // a child JVM starts slower than the warm in-process run: spread the kill over 1.5x its duration
            Thread.sleep(300 + rnd.nextLong(Math.max(1, refMs * 3 / 2)));
            if (!p.isAlive()) break;
            p.destroyForcibly();
            p.waitFor();
            kills++;
        }
        CliRun fin = CliRun.run(args(out).toArray(String[]::new));
        assertEquals(fin.code, 0, "seed " + seed + ", " + kills + " kills: " + fin.err);
        for (String t : List.of("table1", "table2")) {
            String a = figures(ref, t), b = figures(out, t);
            assertEquals(b, a, t + " after " + kills + " kills (seed " + seed + ")");
            assertFalse(a.contains("not run yet"), t + ": every cell filled or marked");
        }
        assertEquals(Files.readString(out.resolve("table1.md")), Files.readString(ref.resolve("table1.md")).replace(ref.toString(), out.toString()));
    }
}
