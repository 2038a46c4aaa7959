package sleb.prune;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.eval.Perplexity;
import sleb.model.Exporter;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SafetensorsWriter;
import sleb.model.SyntheticModel;
import sleb.model.Tensor;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.util.Json;
import sleb.util.UsageException;

/**
 * A tiny model (vocab 512, for stories260K's tok512.bin) that overflows fp32 only where token T occurs and only
 * while block 2 runs: hidden dimension 0 is 1 in T's embedding and 0 in every other, no block writes dimension 0
 * (o_proj and down_proj rows 0 are zero), and block 2's gate and up columns 0 are 1e25, so gate x up is about
 * 1e50 at T (infinite in fp32) and the residual stream turns to NaN from there. Windows without T stay finite.
 * Eval and SLEB selection must stop with one line naming the window and the blocks, never report NaN.
 */
public class NonFiniteLossTest {
    private static final int T_BLOCK = 2;
    private Path dir, text;
    private Tokenizer tok;
    private int tId;
    private String tokPath;

    @BeforeClass
    public void build() throws Exception {
        Path tokFile = SharedData.require("models/stories260K/tok512.bin");
        tok = Tokenizers.load(tokFile, 512);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 30; i++) sb.append("Lily and Tom went to the park. They played with a ball and had fun. ");
        sb.append("Then a big dragon came. ");
        for (int i = 0; i < 30; i++) sb.append("Lily and Tom went to the park. They played with a ball and had fun. ");
        dir = Files.createTempDirectory("nonfinite");
        text = dir.resolve("story.txt");
        Files.writeString(text, sb.toString());
        // T: a token that occurs once in the text, in the dragon sentence
        int[] ids = tok.encode(sb.toString());
        int[] count = new int[512];
        for (int id : ids) count[id]++;
        tId = -1;
        for (int id : tok.encode("Then a big dragon came.")) if (count[id] == 1) tId = id;
        assertTrue(tId >= 0, "the dragon sentence has a token of its own");
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 5, 4, 2, 8, 512, 512, 1e-5f, 10000.0, RopeStyle.HALF,
                true, false, null, 1, 2);
        Map<String, Tensor> t = new LinkedHashMap<>(SyntheticModel.create(c, DType.F32, 13).tensors());
        float[] emb = t.get("model.embed_tokens.weight").toFloatArray();
        for (int v = 0; v < 512; v++) emb[v * 32] = v == tId ? 1f : 0f;
        put(t, "model.embed_tokens.weight", emb);
        for (int l = 0; l < 5; l++) {
            for (String w : new String[] {"self_attn.o_proj.weight", "mlp.down_proj.weight"}) {
                String name = Model.layer(l, w);
                float[] a = t.get(name).toFloatArray();
                Arrays.fill(a, 0, (int) t.get(name).cols(), 0f); // row 0: nothing written to dimension 0
                put(t, name, a);
            }
        }
        for (String w : new String[] {"mlp.gate_proj.weight", "mlp.up_proj.weight"}) {
            String name = Model.layer(T_BLOCK, w);
            float[] a = t.get(name).toFloatArray();
            for (int r = 0; r < 64; r++) a[r * 32] = 1e25f;
            put(t, name, a);
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t);
        Files.writeString(dir.resolve("config.json"), Json.GSON.toJson(Exporter.llamaConfig(c)));
        tokPath = tokFile.toString();
    }

    private static void put(Map<String, Tensor> t, String name, float[] v) {
        Tensor old = t.get(name);
        t.put(name, Tensor.ofFloats(name, old.dtype(), old.shape(), v));
    }

    /** The window (of 32 tokens, no BOS) holding the first T, found from the tokenizer alone. */
    private int firstWindowWithT() {
        int[] ids = tok.encode(readText());
        for (int i = 0; i < ids.length; i++) if (ids[i] == tId) return i / 32;
        throw new AssertionError("the text holds no token " + tId);
    }

    private String readText() {
        try {
            return Files.readString(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    public void perplexityStopsAtTheWindowThatOverflows() throws Exception {
        int[] ids = tok.encode(readText());
        int[][] windows = sleb.eval.TokenStream.windows(ids, 32, 0);
        int bad = firstWindowWithT();
        assertTrue(bad > 0 && bad < windows.length - 1, "T sits inside the text: window " + bad + " of " + windows.length);
        try (Model m = sleb.model.ModelLoader.load(dir); CpuBackend be = new CpuBackend(1); LoadedModel lm = be.load(m)) {
            // without block 2 nothing overflows: a finite perplexity
            Perplexity.Result ok = Perplexity.run(lm, "story", windows, new int[] {0, 1, 3, 4}, 4, false);
            assertTrue(Double.isFinite(ok.ppl), "ppl " + ok.ppl);
            try {
                Perplexity.run(lm, "story", windows, new int[] {0, 1, 2, 3, 4}, 4, false);
                throw new AssertionError("a NaN window must stop the run");
            } catch (UsageException e) {
                assertTrue(e.getMessage().startsWith("story: window " + bad + " of " + windows.length + " ") && e.getMessage().contains("removed blocks []")
                        && e.getMessage().contains("NaN"), e.getMessage());
            }
        }
        CliRun r = CliRun.run("eval", "--device", "cpu", "--model", dir.toString(), "--tokenizer", tokPath, "--data", "story=" + text, "--seqlen", "32", "--no-bos", "--remove", "4");
        r.assertErrorLine("eval", "story: window " + bad + " of ");
        assertTrue(r.err.contains("removed blocks [4]") && !r.out.contains("ppl"), r.err + r.out);
    }

    @Test
    public void slebSelectionStopsInsteadOfRankingNaN() throws Exception {
        int bad = firstWindowWithT();
        Path out = Files.createTempDirectory("nonfinite-prune").resolve("run.json");
        CliRun r = CliRun.run("prune", "--device", "cpu", "--model", dir.toString(), "--tokenizer", tokPath, "--calib", text.toString(), "--calib-sampling", "contiguous",
                "--nsamples", String.valueOf(bad + 2), "--seqlen", "32", "--no-bos", "--num-remove-blocks", "1", "--early-barrier", "0", "--latter-barrier", "0",
                "--quiet", "--out", out.toString());
        // the first candidate, block 0, leaves block 2 in: the window with T is NaN
        r.assertErrorLine("prune", "sleb phase 1, candidate block 0 (removed before: []), calibration window " + bad + " (loss)");
        assertTrue(!r.out.contains("removal order"), r.out);
    }
}
