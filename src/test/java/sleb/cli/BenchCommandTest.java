package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.testng.annotations.Test;
import picocli.CommandLine;
import sleb.util.UsageException;

public class BenchCommandTest {
    @Test
    public void removeLastRatioTakesTheLastBlocksBeforeTheFinalOne() {
        // the count follows the one rule of sleb.model.BlockSelection.countFromRatio (tested in BlockSelectionTest)
        assertEquals(BenchCommand.selection(12, null, 0.2).removedSorted(), List.of(8, 9, 10));
        assertEquals(BenchCommand.selection(12, List.of(3, 1), null).removedSorted(), List.of(1, 3));
        assertEquals(BenchCommand.selection(12, null, null).removedSorted(), List.of());
        expectThrows(UsageException.class, () -> BenchCommand.selection(2, null, 0.9)); // 2 of 2
        expectThrows(UsageException.class, () -> BenchCommand.selection(12, List.of(12), null));
    }

    private static BenchCommand parse(String... args) {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    /** {batch, prompt-len, gen-len, iters} after defaults. */
    private static int[] planNumbers(String... args) {
        BenchCommand.Plan p = parse(args).plan();
        return new int[] {p.proto.batch, p.proto.promptLen, p.proto.genLen, p.iters};
    }

    private static String badFlag(String... args) {
        return expectThrows(UsageException.class, () -> parse(args).plan()).getMessage();
    }

    @Test
    public void badFlagsGiveOneClearLine() {
        String[][] bad = {
            {"--mode", "prompt"},
            {"--model", "m", "--synthetic", "stories110m", "--mode", "prompt"},
            {"--synthetic", "stories110m", "--mode", "decode"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--remove", "1", "--remove-last-ratio", "0.2"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--remove-last-ratio", "1.5"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--batch", "0"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--gen-len", "5"},
            {"--synthetic", "stories110m", "--mode", "generate", "--dtype", "int4"},
            {"--model", "m", "--mode", "prompt", "--layers", "2"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--peak-gflops", "0"},
            {"--synthetic", "stories110m", "--mode", "prompt", "--warmup", "-1"},
        };
        for (String[] a : bad) {
            String m = badFlag(a);
            assertTrue(!m.isEmpty() && !m.contains("\n"), String.join(" ", a) + " -> " + m);
        }
    }

    @Test
    public void protocolDefaultsAreThePapers() {
        int[] p = planNumbers("--synthetic", "stories110m", "--mode", "prompt");
        assertEquals(p, new int[] {1, 2048, 0, 50});
        int[] g = planNumbers("--synthetic", "stories110m", "--mode", "generate");
        assertEquals(g, new int[] {64, 64, 128, 10});
    }

    /** The whole command on a tiny shape: JSON and PNG written, exit code 0 (no timing is checked). */
    @Test
    public void endToEndOnATinyShape() throws Exception {
        Path dir = Files.createTempDirectory("bench");
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":48,"
                + "\"num_hidden_layers\":4,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":50}");
        Path out = dir.resolve("r.json");
        int rc = Main.execute("bench", "--synthetic", dir.toString(), "--mode", "generate", "--batch", "2", "--prompt-len", "3",
                "--gen-len", "4", "--iters", "2", "--warmup", "0", "--threads", "2", "--remove-last-ratio", "0.2",
                "--peak-gflops", "10", "--peak-gbs", "5", "--out", out.toString(), "--md", dir.resolve("b.md").toString());
        assertEquals(rc, 0);
        JsonObject j = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertEquals(j.get("removed").getAsJsonArray().size(), 1); // ceil(0.8) = 1: block 2
        assertEquals(j.get("removed").getAsJsonArray().get(0).getAsInt(), 2);
        assertEquals(j.get("results").getAsJsonArray().size(), 2);
        JsonObject check = j.getAsJsonObject("check"); // the verdict on the timings travels with them
        assertEquals(check.get("ideal_speedup").getAsDouble(), 4.0 / 3, 1e-12);
        assertTrue(check.has("trustworthy") && check.has("load_average") && check.has("warnings"), check.toString());
        assertTrue(Files.size(dir.resolve("r.png")) > 1000);
        String md = Files.readString(dir.resolve("b.md"));
        assertTrue(md.contains("<!-- rows:cpu-generate -->") && md.contains("| 1/4 |") && md.contains("`sleb bench --synthetic"), md);
    }
}
