package sleb.reproduce;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/**
 * One whole `sleb reproduce` on stories260K with the latency protocols on (one timed iteration), then the refusals a
 * rerun can meet: a changed setting is named, a directory of something else is refused.
 */
public class ReproduceRunTest {
    private Path dir, calib;
    private String model, tok;

    @BeforeClass
    public void setUp() throws Exception {
        model = SharedData.require("models/stories260K-hf").toString();
        tok = SharedData.require("models/stories260K/tok512.bin").toString();
        dir = Files.createTempDirectory("reproduce-run");
        calib = dir.resolve("calib.txt");
        Files.createDirectories(dir.resolve("no-tasks"));
        Files.writeString(calib, Files.readString(SharedData.require("data/wikitext-2-raw/wiki.valid.raw"), StandardCharsets.UTF_8).substring(0, 12000));
    }

    /** The base command line with some flags replaced or added: extra is FLAG, VALUE pairs, or a lone switch. */
    private String[] args(Path out, String... extra) {
        java.util.LinkedHashMap<String, String> a = new java.util.LinkedHashMap<>();
        String[] base = {"--models", model, "--tokenizer", tok, "--calib", calib.toString(), "--wikitext2", calib.toString(),
                "--zeroshot-dir", dir.resolve("no-tasks").toString(), "--ratios", "0.2", "--seqlen", "32", "--nsamples", "2",
                "--eval-max-windows", "2", "--bench-iters", "1", "--device", "cpu", "--out", out.toString()};
        for (int i = 0; i < base.length; i += 2) a.put(base[i], base[i + 1]);
        for (int i = 0; i < extra.length; i++) {
            boolean hasValue = i + 1 < extra.length && !extra[i + 1].startsWith("--");
            a.put(extra[i], hasValue ? extra[++i] : null);
        }
        java.util.List<String> l = new java.util.ArrayList<>(java.util.List.of("reproduce", "--quiet"));
        a.forEach((k, v) -> {
            l.add(k);
            if (v != null) l.add(v);
        });
        return l.toArray(String[]::new);
    }

    @Test
    public void wholeRunThenRefusals() throws Exception {
        Path out = dir.resolve("out");
        CliRun r = CliRun.run(args(out));
        assertEquals(r.code, 0, r.err);
        assertTrue(r.err.contains("cells: 5, 0 done, 5 to run; estimated time"), r.err);
        assertTrue(r.err.contains("zero-shot: no task files; no data: piqa, winogrande, hellaswag, arc_easy, arc_challenge"), r.err);
        JsonObject t1 = JsonParser.parseString(Files.readString(out.resolve("table1.json"))).getAsJsonObject();
        int speedups = 0;
        for (JsonElement e : t1.getAsJsonArray("figures")) {
            JsonObject f = e.getAsJsonObject();
            String metric = f.get("metric").getAsString();
            if (metric.startsWith("C4")) assertEquals(f.get("status").getAsString(), "no data");
            if (metric.startsWith("throughput") && f.get("ratio").getAsDouble() > 0) {
                assertTrue(f.get("measured").getAsDouble() > 0, f.toString());
                speedups++;
            }
            assertTrue(!f.get("status").getAsString().equals("not run yet"), f.toString());
        }
        assertEquals(speedups, 1);
        assertTrue(Files.isRegularFile(out.resolve("stories260K-hf/sleb-20/bench-generate.json")));
        assertTrue(Files.isRegularFile(out.resolve("stories260K-hf/sleb-20/run.png")));

        CliRun again = CliRun.run(args(out));
        assertEquals(again.code, 0, again.err);
        assertTrue(again.err.contains("cells: 5, 5 done, 0 to run"), again.err);

        CliRun changed = CliRun.run(args(out, "--nsamples", "3"));
        changed.assertErrorLine("changed setting", "nsamples differs from the reproduction in " + out + " (2 there, 3 now)");
    }

    @Test
    public void badInputsAreOneLineEach() throws Exception {
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "mine");
        CliRun.run(args(other)).assertErrorLine("foreign directory", "is not empty and holds no reproduce.json");
        CliRun.run(args(dir.resolve("o1"), "--ratios", "0")).assertErrorLine("ratio 0", "not between 0 and 1");
        CliRun.run(args(dir.resolve("o2"), "--ratios", "0.7")).assertErrorLine("too many blocks", "at most 3 can go");
        CliRun.run(args(dir.resolve("o3"), "--no-bench")).assertErrorLine("no bench with iters", "--bench-iters with --no-bench");
        CliRun.run(CliRun.concat(args(dir.resolve("o4")), "--tokenizer", tok)).assertErrorLine("two tokenizers, one model", "--tokenizer given 2 times for 1 models");
        CliRun.run(args(dir.resolve("o5"), "--calib", dir.resolve("missing.txt").toString())).assertErrorLine("missing calib", "does not exist");
        assertTrue(!Files.exists(dir.resolve("o2")), "nothing written when refused");
    }
}
