package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Path;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.prune.BlockSearch;
import sleb.prune.PruneState;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/**
 * The real stories260K checkpoint on the GPU against the CPU backend: perplexity on WikiText-2 and SLEB's
 * removal order. Bounds: fp32 weights 1e-5 relative (the GPU's fp32 GEMMs are pedantic, no TF32);
 * bf16 weights 1e-2 (the GPU feeds its GEMMs bf16 activations, the CPU fp32 ones). Skips without a GPU
 * or without the shared data (make dist copies the few files it needs into dist/shared).
 */
public class CudaStories260KTest {
    @BeforeClass
    public void device() { requireDevice(); }

    /** Skips the class when its device is missing: a GPU here, the CPU emulator in {@link CudaEmulatedStories260KTest}. */
    protected void requireDevice() { CudaTestSupport.requireGpu(); }

    protected CudaBackend backend() { return new CudaBackend(0); }

    /** Perplexity windows (count, length) and calibration windows: the emulator runs far fewer. */
    protected int[] sizes() { return new int[] {48, 256, 16, 128}; }

    /** count windows of seqlen tokens of WikiText-2's test text (its first 120 kB) by tok512, no BOS; CudaOptTest uses them too. */
    static int[][] windows(int seqlen, int count) throws Exception {
        Tokenizer tok = Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 512);
        String text = TextDatasets.readText(SharedData.require("data/wikitext-2-raw/wiki.test.raw"));
        return TokenStream.windows(TokenStream.of(tok, text.substring(0, Math.min(text.length(), 120_000)), false), seqlen, count);
    }

    @DataProvider
    public Object[][] copies() { return new Object[][] {{"stories260K-hf", 1e-5}, {"stories260K-hf-bf16", 1e-2}}; }

    @Test(dataProvider = "copies")
    public void perplexityMatchesTheCpu(String copy, double bound) throws Exception {
        Path dir = SharedData.require("models/" + copy);
        int[][] w = windows(sizes()[1], sizes()[0]);
        int[] blocks = {0, 1, 2, 3, 4}, pruned = {0, 2, 4};
        try (Model m = ModelLoader.load(dir); CpuBackend cpu = new CpuBackend(); CudaBackend gpu = backend();
             LoadedModel a = cpu.load(m); LoadedModel b = gpu.load(m)) {
            for (int[] bl : new int[][] {blocks, pruned}) {
                double want = Perplexity.run(a, "wikitext2", w, bl, 8, false).ppl;
                double got = Perplexity.run(b, "wikitext2", w, bl, 8, false).ppl;
                System.out.printf("%s %s blocks %s: ppl cpu %.6f gpu %.6f (relative %.2e, bound %.0e)%n",
                        getClass().getSimpleName(), copy, java.util.Arrays.toString(bl), want, got, Math.abs(got / want - 1), bound);
                assertEquals(got, want, bound * want, copy + " " + java.util.Arrays.toString(bl));
            }
        }
    }

    /** SLEB's search for 3 blocks to remove on calibration windows, quietly; CudaOptTest uses it too. */
    static PruneState search(LoadedModel lm, int[][] calib) throws Exception {
        PruneState st = new PruneState();
        st.settings.put("metric", "sleb");
        BlockSearch.Listener quiet = new BlockSearch.Listener() {
            @Override public void saved(PruneState s) {}
            @Override public void phaseLine(String line) {}
        };
        new BlockSearch(lm, calib, 4, BlockSearch.Metric.SLEB, 3, 0, 0, 1L << 28, false, st, quiet, false).run();
        return st;
    }

    @Test(dataProvider = "copies")
    public void slebRemovesTheSameBlocksAsOnTheCpu(String copy, double bound) throws Exception {
        int[][] calib = windows(sizes()[3], sizes()[2]);
        try (Model m = ModelLoader.load(SharedData.require("models/" + copy)); CpuBackend cpu = new CpuBackend();
             CudaBackend gpu = backend(); LoadedModel a = cpu.load(m); LoadedModel b = gpu.load(m)) {
            PruneState want = search(a, calib), got = search(b, calib);
            System.out.printf("%s %s: removal order cpu %s gpu %s%n", getClass().getSimpleName(), copy, want.removal_order, got.removal_order);
            assertEquals(got.removal_order, want.removal_order, copy);
            for (int p = 0; p < want.phases.size(); p++)
                for (int c = 0; c < want.phases.get(p).candidates.size(); c++) {
                    double x = got.phases.get(p).candidates.get(c).loss, y = want.phases.get(p).candidates.get(c).loss;
                    assertTrue(Math.abs(x - y) <= bound * Math.abs(y), copy + " phase " + (p + 1) + " candidate " + c + ": " + x + " vs " + y);
                }
        }
    }
}
