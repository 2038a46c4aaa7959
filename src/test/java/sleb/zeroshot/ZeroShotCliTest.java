package sleb.zeroshot;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/** sleb zeroshot: bad input ends in one clear line and exit code 2 with no results file; a good run writes JSON. */
public class ZeroShotCliTest {
    @DataProvider
    public Object[][] badRuns() throws Exception {
        String model = SharedData.path("models/stories260K/stories260K.bin").toString();
        String data = SharedData.path("data/zeroshot").toString();
        Path empty = Files.createTempDirectory("zs-empty");
        return new Object[][] {
            {"unknown task", new String[] {"--tasks", "piqa,mmlu", "--data-dir", data}, "unknown task 'mmlu'"},
            {"missing task file", new String[] {"--tasks", "hellaswag", "--data-dir", empty.toString()}, "task file for hellaswag not found"},
            {"missing --task-file", new String[] {"--tasks", "piqa", "--task-file", "piqa=/nonexistent/valid.jsonl"}, "/nonexistent/valid.jsonl"},
            {"bad --task-file", new String[] {"--tasks", "piqa", "--task-file", "piqa"}, "NAME=PATH"},
            {"--task-file twice for one task", new String[] {"--tasks", "piqa", "--task-file", "piqa=" + data + "/piqa/valid.jsonl",
                "--task-file", "piqa=" + data + "/arc/ARC-Easy-Dev.jsonl"}, "--task-file names piqa twice"},
            {"task listed twice", new String[] {"--tasks", "piqa,piqa", "--data-dir", data}, "listed twice"},
            {"block out of range", new String[] {"--tasks", "piqa", "--data-dir", data, "--remove", "5"}, "not a block"},
        };
    }

    @Test(dataProvider = "badRuns")
    public void failsWithOneClearLine(String what, String[] args, String mentions) throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        SharedData.require("data/zeroshot");
        Path out = Files.createTempDirectory("zs-cli").resolve("r.json");
        CliRun r = CliRun.run(CliRun.concat(new String[] {"zeroshot", "--device", "cpu", "--model", model, "--out", out.toString()}, args));
        r.assertErrorLine(what, mentions);
        assertTrue(!Files.exists(out), what + ": no results file may be left");
    }

    @Test
    public void goodRunPrintsOneLinePerTaskAndWritesJson() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        String data = SharedData.require("data/zeroshot").toString();
        Path out = Files.createTempDirectory("zs-cli").resolve("r.json");
        CliRun r = CliRun.run("zeroshot", "--device", "cpu", "--model", model, "--data-dir", data, "--tasks", "piqa,winogrande",
                "--limit", "4", "--remove", "2", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        assertTrue(r.out.contains("piqa: acc ") && r.out.contains("acc_norm") && r.out.contains("(n 4,"), r.out);
        assertTrue(r.out.contains("winogrande: acc ") && r.out.contains("mean: acc "), r.out);
        String json = Files.readString(out);
        assertTrue(json.contains("\"task\": \"piqa\"") && json.contains("\"acc_norm\"") && json.contains("\"n\": 4"), json);
        com.google.gson.JsonObject doc = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
        assertEquals(doc.getAsJsonObject("settings").getAsJsonArray("removed").toString(), "[2]", json);
        assertEquals(doc.get("status").getAsString(), "done", json);
    }
}
