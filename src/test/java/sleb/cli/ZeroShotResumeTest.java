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

/** A zero-shot run cut after its first task keeps that task on --resume and ends with the uninterrupted results. */
public class ZeroShotResumeTest {
    @Test
    public void resumedRunEqualsUninterrupted() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        String dir = SharedData.require("data/zeroshot").toString();
        Path tmp = Files.createTempDirectory("sleb-zs-resume");
        Path full = tmp.resolve("full.json"), cut = tmp.resolve("cut.json");
        String[] base = {"zeroshot", "--device", "cpu", "--model", model, "--tasks", "piqa,winogrande", "--data-dir", dir, "--limit", "6"};
        CliRun r = CliRun.run(CliRun.concat(base, "--out", full.toString()));
        assertEquals(r.code, 0, r.err);
        JsonObject done = JsonParser.parseString(Files.readString(full)).getAsJsonObject();
        assertEquals(done.get("status").getAsString(), "done");

        // what a run killed during its second task leaves: the first row, status running. Mark the kept row so
        // the test can tell it was not recomputed.
        JsonObject state = done.deepCopy();
        state.addProperty("status", "running");
        JsonArray rows = new JsonArray();
        JsonObject first = state.getAsJsonArray("results").get(0).getAsJsonObject().deepCopy();
        first.addProperty("seconds", -1.0);
        rows.add(first);
        state.add("results", rows);
        state.remove("mean");
        Files.writeString(cut, state.toString());

        r = CliRun.run(CliRun.concat(base, "--out", cut.toString(), "--resume"));
        assertEquals(r.code, 0, r.err);
        JsonObject resumed = JsonParser.parseString(Files.readString(cut)).getAsJsonObject();
        JsonArray got = resumed.getAsJsonArray("results"), want = done.getAsJsonArray("results");
        assertEquals(got.size(), 2);
        assertEquals(got.get(0).getAsJsonObject().get("seconds").getAsDouble(), -1.0, "the finished task is kept, not rerun");
        for (int i = 0; i < 2; i++)
            assertEquals(got.get(i).getAsJsonObject().get("acc").getAsDouble(), want.get(i).getAsJsonObject().get("acc").getAsDouble(), 0.0);
        assertEquals(resumed.getAsJsonObject("mean").get("acc").getAsDouble(), done.getAsJsonObject("mean").get("acc").getAsDouble(), 0.0);

        CliRun changed = CliRun.run(CliRun.concat(new String[] {"zeroshot", "--device", "cpu", "--model", model, "--tasks",
                "piqa,winogrande", "--data-dir", dir, "--limit", "7"}, "--out", cut.toString(), "--resume"));
        changed.assertErrorLine("changed --limit", "limit differs");
    }
}
