package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;
import sleb.backend.cpu.OptReferenceForward;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.model.OptLayout;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/**
 * The commands on the shared OPT fixtures: `sleb prune` picks the blocks a float64 SLEB loop written in the test
 * picks, writes run.json, the chart and an export that reloads to the perplexity of `eval --remove`; the export
 * keeps biases, the position table and every config key but num_hidden_layers.
 */
public class OptCommandsTest {
    private Path tmp, calib;

    @BeforeClass
    public void mk() throws Exception {
        tmp = Files.createTempDirectory("opt-cli");
        // a small calibration text: the head of WikiText-2 test, so two contiguous windows of 64 tokens exist
        String head = TextDatasets.readText(SharedData.require("data/wikitext-2-raw/wiki.test.raw")).substring(0, 3000);
        calib = Files.writeString(tmp.resolve("calib.txt"), head);
    }

    @AfterClass(alwaysRun = true)
    public void rm() throws Exception {
        try (var s = Files.walk(tmp)) {
            s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    @DataProvider
    public Object[][] fixtures() { return new Object[][] {{"opt-tiny-preln"}, {"opt-tiny-postln-proj"}}; }

    private static Path tok() { return SharedData.require("models/stories260K/tok512.bin"); }

    /** SLEB (the paper's Algorithm 1) in float64: per phase, remove the alive block whose absence gives the lowest calibration NLL. */
    private List<Integer> referenceRemovalOrder(Model m, int[][] windows, int count) {
        OptReferenceForward ref = new OptReferenceForward(m);
        int n = m.config().nLayers;
        List<Integer> alive = new ArrayList<>();
        for (int i = 0; i < n; i++) alive.add(i);
        List<Integer> order = new ArrayList<>();
        for (int phase = 0; phase < count; phase++) {
            int best = -1;
            double bestLoss = Double.POSITIVE_INFINITY;
            for (int k = 1; k < alive.size() - 1; k++) { // early and latter barriers of 1
                List<Integer> keep = new ArrayList<>(alive);
                keep.remove(k);
                int[] blocks = keep.stream().mapToInt(Integer::intValue).toArray();
                double loss = 0;
                for (int[] w : windows) loss += ref.nll(w, blocks);
                if (loss < bestLoss) {
                    bestLoss = loss;
                    best = alive.get(k);
                }
            }
            order.add(best);
            alive.remove(Integer.valueOf(best));
        }
        return order;
    }

    private static double ppl(Path evalJson) throws Exception {
        return JsonParser.parseString(Files.readString(evalJson)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject().get("ppl").getAsDouble();
    }

    @Test(dataProvider = "fixtures")
    public void pruneSelectsAsFloat64SlebAndExportReloadsToTheSamePerplexity(String name) throws Exception {
        Path model = SharedData.require("models/opt-tiny/" + name);
        Path wiki = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path run = dir.resolve("run.json"), export = dir.resolve("export");
        CliRun r = CliRun.run("prune", "--model", model.toString(), "--tokenizer", tok().toString(), "--no-bos", "--device", "cpu",
                "--calib", calib.toString(), "--calib-sampling", "contiguous", "--nsamples", "2", "--seqlen", "64", "--num-remove-blocks", "2",
                "--eval", "wikitext2=" + wiki, "--eval-seqlen", "256", "--eval-max-windows", "2", "--export", export.toString(),
                "--out", run.toString(), "--quiet");
        assertEquals(r.code, 0, r.err);
        assertTrue(Files.size(dir.resolve("run.png")) > 0, "chart written");
        JsonObject rj = JsonParser.parseString(Files.readString(run)).getAsJsonObject();
        List<Integer> order = new ArrayList<>();
        for (JsonElement e : rj.getAsJsonArray("removal_order")) order.add(e.getAsInt());

        Tokenizer tok = Tokenizers.load(tok(), 512);
        int[][] windows = TokenStream.windows(TokenStream.of(tok, TextDatasets.load(new TextDatasets.Spec("calib", calib)), false), 64, 2);
        try (Model m = ModelLoader.load(model)) {
            assertEquals(order, referenceRemovalOrder(m, windows, 2), name + ": SLEB's removal order against the float64 loop");
        }

        String remove = order.get(0) + "," + order.get(1);
        CliRun a = CliRun.run("eval", "--model", model.toString(), "--tokenizer", tok().toString(), "--no-bos", "--device", "cpu", "--remove", remove,
                "--seqlen", "256", "--max-windows", "2", "--data", "wikitext2=" + wiki, "--out", dir.resolve("remove.json").toString(), "--quiet");
        assertEquals(a.code, 0, a.err);
        CliRun b = CliRun.run("eval", "--model", export.toString(), "--no-bos", "--device", "cpu",
                "--seqlen", "256", "--max-windows", "2", "--data", "wikitext2=" + wiki, "--out", dir.resolve("export.json").toString(), "--quiet");
        assertEquals(b.code, 0, b.err);
        // the same weights run in the same order: equal to the last bit is expected, 1e-12 relative allowed
        double want = ppl(dir.resolve("remove.json"));
        assertEquals(ppl(dir.resolve("export.json")), want, want * 1e-12);
        double inRun = rj.getAsJsonObject("eval_pruned").getAsJsonObject("wikitext2").get("ppl").getAsDouble();
        assertEquals(inRun, want, want * 1e-12, "run.json's pruned perplexity");

        JsonObject src = JsonParser.parseString(Files.readString(model.resolve("config.json"))).getAsJsonObject();
        JsonObject out = JsonParser.parseString(Files.readString(export.resolve("config.json"))).getAsJsonObject();
        assertEquals(out.get("num_hidden_layers").getAsInt(), src.get("num_hidden_layers").getAsInt() - 2);
        out.remove("num_hidden_layers");
        src.remove("num_hidden_layers");
        assertEquals(out, src, "every other config key kept");

        int[] kept = rj.getAsJsonArray("kept_blocks").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
        try (Model m = ModelLoader.load(model); Model e = ModelLoader.load(export)) {
            assertEquals(e.tensor(OptLayout.EMBED_POSITIONS).toFloatArray(), m.tensor(OptLayout.EMBED_POSITIONS).toFloatArray());
            for (int i = 0; i < kept.length; i++)
                for (String t : new String[] {"fc1.bias", "self_attn.out_proj.bias", "self_attn_layer_norm.bias", "final_layer_norm.weight"})
                    assertEquals(e.tensor(OptLayout.layer(i, t)).toFloatArray(), m.tensor(OptLayout.layer(kept[i], t)).toFloatArray(), "layer " + i + " " + t);
            assertEquals(e.tensors().size(), m.tensors().size() - 2 * 16, "16 tensors per removed block");
            for (Map.Entry<String, sleb.model.Tensor> t : e.tensors().entrySet())
                if (!t.getKey().startsWith("model.decoder.layers."))
                    assertEquals(t.getValue().toFloatArray(), m.tensor(t.getKey()).toFloatArray(), t.getKey());
        }
        assertTrue(Arrays.asList(export.toFile().list()).contains("tok512.bin"), "the tokenizer travels with the export");
    }

    @Test
    public void infoAndGenerateRunOnOpt() {
        Path model = SharedData.require("models/opt-tiny/opt-tiny-postln-proj");
        CliRun i = CliRun.run("info", "--model", model.toString());
        assertEquals(i.code, 0, i.err);
        assertTrue(i.out.contains("post-LN") && i.out.contains("project_in/out") && i.out.contains("401,600"), i.out);
        CliRun g = CliRun.run("generate", "--model", model.toString(), "--tokenizer", tok().toString(), "--device", "cpu", "--prompt", "Once", "--max-tokens", "5");
        assertEquals(g.code, 0, g.err);
        CliRun tooLong = CliRun.run("generate", "--model", model.toString(), "--tokenizer", tok().toString(), "--device", "cpu", "--max-tokens", "2048");
        tooLong.assertErrorLine("prompt plus --max-tokens past the position table", "max_position_embeddings 2048");
        CliRun longWindow = CliRun.run("eval", "--model", model.toString(), "--tokenizer", tok().toString(), "--device", "cpu", "--seqlen", "2049",
                "--data", "wikitext2=" + SharedData.require("data/wikitext-2-raw/wiki.test.raw"));
        longWindow.assertErrorLine("--seqlen past the position table", "--seqlen 2049 is longer than this OPT model's max_position_embeddings 2048");
    }
}
