package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/** An eval interrupted after some windows continues from its results file and ends with the uninterrupted total. */
public class EvalResumeTest {
    private static String[] args(String model, String text, int maxWindows, Path out, String... extra) {
        return args(model, text, 128, maxWindows, out, extra);
    }

    private static String[] args(String model, String text, int seqlen, int maxWindows, Path out, String... extra) {
        String[] base = {"eval", "--device", "cpu", "--model", model, "--data", "wikitext2=" + text, "--seqlen", String.valueOf(seqlen), "--no-bos",
                "--batch", "1", "--max-windows", String.valueOf(maxWindows), "--out", out.toString()};
        return CliRun.concat(base, extra);
    }

    @Test
    public void resumedTotalEqualsUninterrupted() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        Path dir = Files.createTempDirectory("sleb-eval-resume");
        Path full = dir.resolve("full.json"), head = dir.resolve("head.json"), cut = dir.resolve("cut.json");
        assertEquals(CliRun.run(args(model, text, 6, full)).code, 0);
        assertEquals(CliRun.run(args(model, text, 3, head)).code, 0);
        JsonObject done = JsonParser.parseString(Files.readString(full)).getAsJsonObject();
        double headNll = JsonParser.parseString(Files.readString(head)).getAsJsonObject().getAsJsonArray("results").get(0)
                .getAsJsonObject().get("nll").getAsDouble();
        // the state a run killed after its third window leaves behind
        JsonObject state = done.deepCopy();
        state.addProperty("status", "running");
        state.add("results", new JsonArray());
        JsonObject partial = new JsonObject();
        partial.addProperty("dataset", "wikitext2");
        partial.addProperty("windows_done", 3);
        partial.addProperty("nll", headNll);
        state.add("partial", partial);
        Files.writeString(cut, state.toString());

        CliRun r = CliRun.run(args(model, text, 6, cut, "--resume"));
        assertEquals(r.code, 0, r.err);
        JsonObject resumed = JsonParser.parseString(Files.readString(cut)).getAsJsonObject();
        assertEquals(resumed.get("status").getAsString(), "done");
        double want = done.getAsJsonArray("results").get(0).getAsJsonObject().get("nll").getAsDouble();
        double got = resumed.getAsJsonArray("results").get(0).getAsJsonObject().get("nll").getAsDouble();
        assertEquals(got, want, 0.0, "windows are summed in order either way, so the totals are identical");

        CliRun changed = CliRun.run(args(model, text, 64, 6, cut, "--resume"));
        changed.assertErrorLine("changed --seqlen", "seqlen differs from the run in " + cut + " (128 there, 64 now)"); // integers as integers
        CliRun missing = CliRun.run(args(model, text, 6, dir.resolve("none.json"), "--resume"));
        missing.assertErrorLine("missing results file", "does not exist");
    }
}
