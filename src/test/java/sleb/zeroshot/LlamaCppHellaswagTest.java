package sleb.zeroshot;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.LlamaCppTools;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.prune.PyRandom;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/** HellaSwag in llama.cpp's six-line format, under the harness's protocol and under llama-perplexity --hellaswag's. */
public class LlamaCppHellaswagTest {
    private static final String STORIES = "models/stories260K/stories260K.bin", TOK = "models/stories260K/tok512.bin";
    private static final String FULL = "data/zeroshot/hellaswag/hellaswag_val_full.txt";

    /**
     * The draws of {@code std::uniform_int_distribution<size_t>(0, left-1)} over {@code std::mt19937 rng(1)} for
     * left = 10042, 10041, ...: printed by a 6-line C++ program built with this machine's g++ 12.2 (libstdc++), the
     * compiler the pinned llama.cpp binaries were built with.
     */
    @Test
    public void drawsEqualLibstdcxx() {
        long[] want = {4187, 10012, 7232, 9361, 1, 1285, 3034, 10025, 1472, 2368, 926, 3978};
        PyRandom g = PyRandom.cppMt19937(1);
        for (int i = 0; i < want.length; i++) assertEquals(LlamaCppHellaswag.uniformBelow(g, 10042 - i), want[i], "draw " + i);
        int[] o = LlamaCppHellaswag.order(10042, 3);
        // draw 10012 in the list without 4187 is file item 10013; draw 7232 in the list without 4187 and 10013 is 7233
        assertEquals(o, new int[] {4187, 10013, 7233}, "indices into the shrinking list map back to file indices");
        int[] all = LlamaCppHellaswag.order(50, 50).clone();
        Arrays.sort(all);
        for (int i = 0; i < 50; i++) assertEquals(all[i], i, "all items, each once");
    }

    @Test
    public void commonPrefixLeavesATokenToScore() {
        assertEquals(LlamaCppHellaswag.commonPrefix(new int[][] {{1, 5, 6, 7}, {1, 5, 6, 8}, {1, 5, 9}, {1, 5, 6, 7, 2}}), 2);
        assertEquals(LlamaCppHellaswag.commonPrefix(new int[][] {{1, 5}, {1, 5, 6}, {1, 5, 7}, {1, 5, 8}}), 1, "never the whole of the shortest");
    }

    @Test
    public void sixLineFormatIsRead() throws Exception {
        Path f = Files.createTempDirectory("sleb-hs6").resolve("hs.txt");
        Files.writeString(f, "Roofing: A man is on a roof. he\n3\nis a.\nis b.\nis c.\nis d.\nCooking: She cuts onions. she\n0\nfries.\nsings.\nruns.\nsits.\n");
        assertTrue(TaskReaders.isHellaswagSixLine(f));
        List<Item> items = TaskReaders.hellaswag(f);
        assertEquals(items.size(), 2);
        assertEquals(items.get(0).gold(), 3);
        assertEquals(items.get(0).contexts().get(0), "Roofing: A man is on a roof. he", "the first line as it is: ctx_b's 'he' is not capitalised");
        assertEquals(items.get(0).continuations().get(2), " is c.");
        assertEquals(items.get(1).choices(), List.of("fries.", "sings.", "runs.", "sits."));

        Path bad = f.resolveSibling("bad.txt");
        Files.writeString(bad, "ctx\n1\na\nb\nc\n");
        CliRun.run("zeroshot", "--device", "cpu", "--model", SharedData.require(STORIES).toString(), "--tasks", "hellaswag", "--task-file", "hellaswag=" + bad)
                .assertErrorLine("five lines", "5 lines is not a multiple of 6");
        Files.writeString(bad, "ctx\n4\na\nb\nc\nd\n");
        CliRun.run("zeroshot", "--device", "cpu", "--model", SharedData.require(STORIES).toString(), "--tasks", "hellaswag", "--task-file", "hellaswag=" + bad)
                .assertErrorLine("gold out of range", "bad.txt:2: label \"4\" is not one of 0..3");
    }

    /** The harness's protocol on the six-line file says once, on stderr and in the results, what it cannot apply. */
    @Test
    public void lmEvalProtocolStatesTheDeviation() throws Exception {
        Path full = SharedData.require(FULL);
        Path out = Files.createTempDirectory("sleb-hs-dev").resolve("r.json");
        CliRun r = CliRun.run("zeroshot", "--device", "cpu", "--model", SharedData.require(STORIES).toString(), "--tokenizer", SharedData.require(TOK).toString(),
                "--tasks", "hellaswag", "--data-dir", full.getParent().getParent().toString(), "--limit", "3", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        assertEquals(r.err.split("ctx_b.capitalize\\(\\) is not applied", -1).length - 1, 1, "said once on stderr: " + r.err);
        JsonObject row = JsonParser.parseString(Files.readString(out)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(row.get("deviation").getAsString(), TaskReaders.HELLASWAG_SIX_LINE_DEVIATION);
        assertTrue(row.get("file").getAsString().endsWith("hellaswag_val_full.txt"), "found under --data-dir as the other tasks are");

        CliRun.run("zeroshot", "--device", "cpu", "--model", SharedData.require(STORIES).toString(), "--protocol", "llamacpp", "--tasks", "hellaswag,piqa")
                .assertErrorLine("llamacpp with another task", "--protocol llamacpp scores hellaswag only");
    }

    /**
     * llama-perplexity --hellaswag --hellaswag-tasks N, run live on stories260K converted by llama.cpp's own converter
     * (f32 weights, f32 KV cache; -c 1024 holds the longest item's 889 tokens), against sleb zeroshot --protocol llamacpp
     * --limit N: the same accuracy, and the same item right or wrong at every step of llama.cpp's running accuracy.
     */
    @Test
    public void agreesWithLlamaPerplexityHellaswag() throws Exception {
        int n = 40;
        Path model = SharedData.require(STORIES), tokPath = SharedData.require(TOK), file = SharedData.require(FULL);
        Path dir = Files.createTempDirectory("sleb-hs-llamacpp");
        Path gguf = LlamaCppTools.convertLlama2c(model, tokPath, dir);
        String lc = LlamaCppTools.run(300, "llama-perplexity", "-m", gguf.toString(), "-f", file.toString(), "--hellaswag",
                "--hellaswag-tasks", String.valueOf(n), "-c", "1024", "-t", "2", "-ctk", "f32", "-ctv", "f32");
        List<Double> running = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^(\\d+)\\t([0-9.]+)$").matcher(lc);
        while (m.find()) {
            assertEquals(Integer.parseInt(m.group(1)), running.size() + 1, lc);
            running.add(Double.parseDouble(m.group(2)));
        }
        assertEquals(running.size(), n, "one running-accuracy line per item:\n" + lc);

        Tokenizer tok = Tokenizers.load(tokPath, 512);
        ZeroShot.TaskData data = ZeroShot.TaskData.load(Task.HELLASWAG, file, 0);
        ZeroShot.TaskResult r;
        try (Model mod = ModelLoader.load(model); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(mod)) {
            ZeroShot.Options o = new ZeroShot.Options(true);
            o.progress = false;
            r = LlamaCppHellaswag.evaluate(lm, tok, data, n, new int[] {0, 1, 2, 3, 4}, o);
        }
        int hits = 0;
        for (int i = 0; i < n; i++) {
            Item it = data.items().get(r.itemOrder[i]);
            boolean ours = ZeroShot.argmax(r.logliks.get(i)) == it.gold();
            int theirHits = (int) Math.round(running.get(i) * (i + 1) / 100), theirPrev = i == 0 ? 0 : (int) Math.round(running.get(i - 1) * i / 100);
            assertEquals(ours, theirHits - theirPrev == 1, "item " + (i + 1) + " (file item " + r.itemOrder[i] + ") right or wrong in both");
            if (ours) hits++;
        }
        assertEquals(r.acc * 100, running.get(n - 1), 1e-6, "the accuracy llama.cpp prints (8 decimals)");
        assertEquals(hits, (int) Math.round(r.acc * n));

        Path out = dir.resolve("zs.json");
        CliRun c = CliRun.run("zeroshot", "--device", "cpu", "--protocol", "llamacpp", "--model", model.toString(), "--tokenizer", tokPath.toString(),
                "--tasks", "hellaswag", "--task-file", "hellaswag=" + file, "--limit", String.valueOf(n), "--out", out.toString());
        assertEquals(c.code, 0, c.err);
        assertTrue(c.out.contains(String.format("prints %.8f after item %d", running.get(n - 1), n)), c.out);
        assertTrue(!c.err.contains("capitalize"), "no harness deviation note under llama.cpp's protocol: " + c.err);
        JsonObject row = JsonParser.parseString(Files.readString(out)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(row.get("protocol").getAsString(), "llamacpp");
        assertEquals(row.get("acc").getAsDouble(), r.acc, 0.0);
    }
}
