package sleb.prune;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/**
 * BlockSearch against an independent, plain implementation of the official sleb.py loop written here: for
 * every candidate the whole model is rerun from the embeddings with the CPU backend's plain
 * {@code nll(tokens, blocks)}, one window at a time (batch 1, float32 arithmetic, sums in double), with
 * no caching. BlockSearch runs batched (4 windows) from its cache, so agreement is to rounding, 1e-4 relative.
 * stories260K, wiki.valid.raw, contiguous sampling, seqlen 512, no BOS; nsamples 16 here (the CLI run with
 * 32 is recorded in docs/prune.md).
 */
public class SlebAlgorithmTest {
    static final int NSAMPLES = Integer.getInteger("sleb.prune.testNsamples", 16), SEQLEN = 512;
    private Model model;
    private CpuBackend be;
    private LoadedModel lm;
    private int[][] windows;

    @BeforeClass
    public void setUp() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw");
        model = ModelLoader.load(bin);
        Tokenizer tok = Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), model.config().vocabSize);
        windows = Calibration.load(text, Calibration.Sampling.CONTIGUOUS, NSAMPLES, SEQLEN, 0, tok, false).windows;
        be = new CpuBackend();
        lm = be.load(model);
    }

    @AfterClass(alwaysRun = true)
    public void tearDown() throws Exception {
        if (lm != null) lm.close();
        if (be != null) be.close();
        if (model != null) model.close();
    }

    /** The official loop: phase i, candidates j in early .. alive-1-latter, strict < (lower index wins ties). */
    static List<double[]> reference(LoadedModel lm, int[][] windows, int n, int remove, int early, int latter, List<Integer> order) {
        List<Integer> alive = new ArrayList<>();
        for (int i = 0; i < n; i++) alive.add(i);
        List<double[]> losses = new ArrayList<>();
        for (int phase = 0; phase < remove; phase++) {
            int bound = n - phase;
            double min = Double.MAX_VALUE;
            int minIdx = -1;
            List<Double> ph = new ArrayList<>();
            for (int j = early; j < bound - latter; j++) {
                int[] blocks = new int[alive.size() - 1];
                for (int a = 0, k = 0; a < alive.size(); a++) if (a != j) blocks[k++] = alive.get(a);
                double s = 0;
                for (int[] w : windows) s += lm.nll(new int[][] {w}, blocks)[0];
                ph.add(s);
                if (s < min) {
                    min = s;
                    minIdx = j;
                }
            }
            losses.add(ph.stream().mapToDouble(Double::doubleValue).toArray());
            order.add(alive.remove(minIdx));
        }
        return losses;
    }

    static PruneState search(LoadedModel lm, int[][] windows, BlockSearch.Metric metric, int remove, int early, int latter, long cacheBytes, boolean noCache) throws Exception {
        PruneState st = new PruneState();
        st.settings.put("metric", metric.label());
        BlockSearch.Listener quiet = new BlockSearch.Listener() {
            @Override public void saved(PruneState s) {}
            @Override public void phaseLine(String line) {}
        };
        new BlockSearch(lm, windows, 4, metric, remove, early, latter, cacheBytes, noCache, st, quiet, false).run();
        return st;
    }

    @DataProvider
    public Object[][] barriers() {
        return new Object[][] {{0, 0}, {1, 1}};
    }

    @Test(dataProvider = "barriers")
    public void matchesPlainOfficialLoop(int early, int latter) throws Exception {
        List<Integer> refOrder = new ArrayList<>();
        List<double[]> ref = reference(lm, windows, 5, 3, early, latter, refOrder);
        PruneState st = search(lm, windows, BlockSearch.Metric.SLEB, 3, early, latter, 1L << 30, false);
        double worst = 0;
        for (int p = 0; p < ref.size() && p < st.phases.size(); p++)
            for (int c = 0; c < Math.min(ref.get(p).length, st.phases.get(p).candidates.size()); c++)
                worst = Math.max(worst, Math.abs(st.phases.get(p).candidates.get(c).loss / ref.get(p)[c] - 1));
        System.out.printf("SlebAlgorithmTest: nsamples %d, barriers %d/%d: order %s (reference %s), worst relative loss difference %.2e%n",
                windows.length, early, latter, st.removal_order, refOrder, worst);
        assertEquals(st.removal_order, refOrder);
        assertEquals(st.phases.size(), 3);
        for (int p = 0; p < 3; p++) {
            PruneState.Phase ph = st.phases.get(p);
            assertEquals(ph.candidates.size(), ref.get(p).length, "phase " + (p + 1) + " candidates");
            for (int c = 0; c < ref.get(p).length; c++) {
                double got = ph.candidates.get(c).loss, want = ref.get(p)[c];
                assertTrue(Math.abs(got - want) <= 1e-4 * Math.abs(want), "phase " + (p + 1) + " candidate " + c + ": " + got + " vs " + want);
            }
        }
        assertTrue(st.block_evals < st.official_block_evals, st.block_evals + " vs " + st.official_block_evals);
    }

    /**
     * The cache changes the work, not the arithmetic: full cache, every-2nd position and none run the same block
     * sequence on the same batches. They agree to 1e-9 relative rather than to the bit only because the CPU
     * backend's Vector API kernels (lane reductions, vector exp) round differently before and after the JIT
     * compiles them, and the three runs meet those kernels at different JIT states.
     */
    @Test
    public void cacheModesGiveIdenticalLosses() throws Exception {
        long perPos = 4L * windows.length * SEQLEN * model.config().dim;
        PruneState full = search(lm, windows, BlockSearch.Metric.SLEB, 3, 0, 0, 1L << 30, false);
        PruneState stride = search(lm, windows, BlockSearch.Metric.SLEB, 3, 0, 0, 2 * perPos, false);
        PruneState none = search(lm, windows, BlockSearch.Metric.SLEB, 3, 0, 0, 0, true);
        assertEquals(stride.cache.get("stride"), 2);
        for (PruneState other : new PruneState[] {stride, none}) {
            assertEquals(other.removal_order, full.removal_order);
            for (int p = 0; p < full.phases.size(); p++)
                for (int c = 0; c < full.phases.get(p).candidates.size(); c++)
                    assertEquals(other.phases.get(p).candidates.get(c).loss, full.phases.get(p).candidates.get(c).loss,
                            1e-9 * full.phases.get(p).candidates.get(c).loss);
        }
        assertEquals(none.block_evals, none.official_block_evals);
        assertTrue(full.block_evals < stride.block_evals && stride.block_evals < none.block_evals,
                full.block_evals + " < " + stride.block_evals + " < " + none.block_evals);
    }

    @Test
    public void oneshotRanksPhaseOneLosses() throws Exception {
        List<Integer> order = new ArrayList<>();
        double[] ref = reference(lm, windows, 5, 1, 1, 1, order).get(0);
        PruneState st = search(lm, windows, BlockSearch.Metric.ONESHOT, 2, 1, 1, 1L << 30, false);
        Integer[] idx = {0, 1, 2};
        java.util.Arrays.sort(idx, (a, b) -> Double.compare(ref[a], ref[b]));
        assertEquals(st.removal_order, List.of(idx[0] + 1, idx[1] + 1));
    }

    @Test
    public void cosineMatchesPlainComputation() throws Exception {
        PruneState st = search(lm, windows, BlockSearch.Metric.COSINE, 2, 0, 0, 1L << 30, false);
        double[] cos = new double[5];
        for (int[] w : windows) {
            try (sleb.backend.Activations x = lm.embed(new int[][] {w})) {
                for (int b = 0; b < 5; b++) {
                    try (sleb.backend.Activations before = lm.copy(x)) {
                        lm.runBlock(b, x);
                        cos[b] += lm.cosineSum(before, x)[0];
                    }
                }
            }
        }
        Integer[] idx = {0, 1, 2, 3, 4};
        for (int b = 0; b < 5; b++) {
            cos[b] /= (double) windows.length * SEQLEN;
            double got = st.phases.get(0).candidates.get(b).cosine;
            assertTrue(Math.abs(got - cos[b]) < 1e-6, "block " + b + ": " + got + " vs " + cos[b]);
        }
        java.util.Arrays.sort(idx, (a, b) -> Double.compare(cos[b], cos[a]));
        assertEquals(st.removal_order, List.of(idx[0], idx[1]));
    }
}
