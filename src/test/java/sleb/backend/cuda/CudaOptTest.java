package sleb.backend.cuda;

import static sleb.backend.cuda.CudaTestSupport.*;

import java.util.Arrays;
import java.util.Random;
import org.testng.Assert;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.backend.ModelLogits;
import sleb.backend.cpu.CpuBackend;
import sleb.backend.cpu.OptReferenceForward;
import sleb.backend.cpu.ReferenceForward;
import sleb.eval.Perplexity;
import sleb.prune.PruneState;
import sleb.model.Model;
import sleb.model.ModelLoader;

/**
 * The OPT fixtures (../shared/models/opt-tiny: pre-LN, its F16 copy, and the 350m layout with post-LN and
 * project_in/out) on the GPU against the CPU backend and against {@link OptReferenceForward} (float64, written
 * from modeling_opt.py). Bounds as the LLaMA CUDA tests': logits fp32 2e-5 relative to max(|logit|, 1) (CudaModelTest),
 * 16-bit 1e-2 (the GPU feeds its GEMMs fp16 activations, the CPU and the reference do not); perplexity and SLEB's
 * candidate losses 1e-5 / 1e-2 relative (CudaStories260KTest). Skips without a GPU or without the shared data.
 */
public class CudaOptTest {
    @BeforeClass
    public void device() { requireDevice(); }

    /** Skips the class when its device is missing: a GPU here, the CPU emulator in {@link CudaEmulatedOptTest}. */
    protected void requireDevice() { requireGpu(); }

    protected CudaBackend backend() { return new CudaBackend(0); }

    static Model fixture(String name) throws Exception { return ModelLoader.load(SharedData.require("models/opt-tiny/" + name)); }

    @DataProvider
    public Object[][] fixtures() { return new Object[][] {{"opt-tiny-preln", 2e-5}, {"opt-tiny-postln-proj", 2e-5}, {"opt-tiny-preln-f16", 1e-2}}; }

    private static int[][] tokens(int batch, int n, long seed) {
        int[][] t = new int[batch][n];
        Random r = new Random(seed);
        for (int[] row : t) for (int i = 0; i < n; i++) row[i] = r.nextInt(512);
        return t;
    }

    private static int[] allBut(int layers, int skip) {
        return java.util.stream.IntStream.range(0, layers).filter(i -> i != skip).toArray();
    }

    /** Worst |got - ref| / max(|ref|, 1) of one position's logits. */
    private static double worst(float[] got, double[] ref) {
        double w = 0;
        for (int v = 0; v < ref.length; v++) w = Math.max(w, Math.abs(got[v] - ref[v]) / Math.max(Math.abs(ref[v]), 1.0));
        return w;
    }

    /** Every position's logits and each sequence's NLL, with all blocks and with each block removed. */
    /** Every position's logits and each sequence's NLL, with all blocks and with each block removed in turn. */
    @Test(dataProvider = "fixtures")
    public void logitsAndNllMatchTheCpuAndTheReference(String name, double bound) throws Exception {
        int[][] tokens = tokens(2, 19, 11);
        try (Model m = fixture(name); CpuBackend cpu = new CpuBackend(); CudaBackend be = backend();
             LoadedModel c = cpu.load(m); LoadedModel lm = be.load(m)) {
            OptReferenceForward ref = new OptReferenceForward(m);
            int L = m.config().nLayers;
            for (int skip = -1; skip < L; skip++) {
                int[] blocks = allBut(L, skip);
                float[][] logits = ModelLogits.of(lm, tokens, blocks), cpuLogits = ModelLogits.of(c, tokens, blocks);
                double[] nll = lm.nll(tokens, blocks), cpuNll = c.nll(tokens, blocks);
                double vsCpu = 0, vsRef = 0;
                for (int b = 0; b < 2; b++) {
                    double[][] want = ref.logits(tokens[b], blocks);
                    for (int p = 0; p < 19; p++) {
                        String at = name + " blocks " + Arrays.toString(blocks) + " logits b" + b + " t" + p;
                        vsCpu = Math.max(vsCpu, worst(logits[b * 19 + p], toDouble(cpuLogits[b * 19 + p])));
                        vsRef = Math.max(vsRef, worst(logits[b * 19 + p], want[p]));
                        assertClose(logits[b * 19 + p], toDouble(cpuLogits[b * 19 + p]), bound, 1.0, at + " vs CPU");
                        assertClose(logits[b * 19 + p], want[p], bound, 1.0, at + " vs float64");
                    }
                    assertClose(new double[] {nll[b]}, new double[] {cpuNll[b]}, bound, 1.0, name + " nll b" + b + " vs CPU");
                    assertClose(new double[] {nll[b]}, new double[] {ReferenceForward.nll(want, tokens[b])}, bound, 1.0, name + " nll b" + b + " vs float64");
                }
                System.out.printf("%s %s blocks %s: worst logit error vs CPU %.2e, vs float64 %.2e (bound %.0e)%n", getClass().getSimpleName(), name,
                        Arrays.toString(blocks), vsCpu, vsRef, bound);
            }
        }
    }

    /**
     * KV-cached decoding (prefill 7 positions, then one token a step up to 19), with all blocks and with block 1
     * removed: every step's logits match the reference's full forward at that position, and steps replayed from a
     * CUDA graph match eager steps (same kernels, same order: 1e-6).
     */
    @Test(dataProvider = "fixtures")
    public void decodeMatchesPrefill(String name, double bound) throws Exception {
        int[][] tokens = tokens(2, 19, 12);
        try (Model m = fixture(name); CudaBackend be = backend(); LoadedModel lm = be.load(m)) {
            OptReferenceForward ref = new OptReferenceForward(m);
            for (int[] blocks : new int[][] {allBut(m.config().nLayers, -1), allBut(m.config().nLayers, 1)}) {
                double[][] ref0 = ref.logits(tokens[0], blocks), ref1 = ref.logits(tokens[1], blocks);
                try (CudaDecodeSession g = ((CudaLoadedModel) lm).newSession(2, 24, blocks, true);
                     CudaDecodeSession e = ((CudaLoadedModel) lm).newSession(2, 24, blocks, false)) {
                    int[][] head = {Arrays.copyOf(tokens[0], 7), Arrays.copyOf(tokens[1], 7)};
                    float[][] lg = g.prefill(head), le = e.prefill(head);
                    assertClose(lg[0], ref0[6], bound, 1.0, name + " prefill b0");
                    assertClose(lg[1], ref1[6], bound, 1.0, name + " prefill b1");
                    for (int p = 7; p < 19; p++) {
                        int[] next = {tokens[0][p], tokens[1][p]};
                        lg = g.step(next);
                        le = e.step(next);
                        Assert.assertTrue(g.usesGraphs(), "graph capture failed");
                        String at = name + " blocks " + Arrays.toString(blocks) + " decode t" + p;
                        assertClose(lg[0], ref0[p], bound, 1.0, at + " b0");
                        assertClose(lg[1], ref1[p], bound, 1.0, at + " b1");
                        for (int b = 0; b < 2; b++)
                            Assert.assertTrue(worst(lg[b], toDouble(le[b])) <= 1e-6, at + ": graph vs eager " + worst(lg[b], toDouble(le[b])));
                    }
                }
            }
        }
    }

    /** Perplexity windows (count, length) and calibration windows: the emulator runs fewer. */
    protected int[] sizes() { return new int[] {32, 256, 16, 128}; }

    /** WikiText-2 perplexity (tok512, no BOS) with all blocks and with two removed, against the CPU backend. */
    @Test(dataProvider = "fixtures")
    public void perplexityMatchesTheCpu(String name, double bound) throws Exception {
        double pplBound = bound == 2e-5 ? 1e-5 : 1e-2;
        int[][] w = CudaStories260KTest.windows(sizes()[1], sizes()[0]);
        try (Model m = fixture(name); CpuBackend cpu = new CpuBackend(); CudaBackend be = backend();
             LoadedModel a = cpu.load(m); LoadedModel b = be.load(m)) {
            int L = m.config().nLayers;
            for (int[] blocks : new int[][] {allBut(L, -1), java.util.stream.IntStream.range(0, L).filter(i -> i != 1 && i != 3).toArray()}) {
                double want = Perplexity.run(a, "wikitext2", w, blocks, 8, false).ppl;
                double got = Perplexity.run(b, "wikitext2", w, blocks, 8, false).ppl;
                System.out.printf("%s %s blocks %s: ppl cpu %.6f cuda %.6f (relative %.2e, bound %.0e)%n", getClass().getSimpleName(), name,
                        Arrays.toString(blocks), want, got, Math.abs(got / want - 1), pplBound);
                Assert.assertEquals(got, want, pplBound * want, name + " " + Arrays.toString(blocks));
            }
        }
    }

    @DataProvider
    public Object[][] fp32Fixtures() { return new Object[][] {{"opt-tiny-preln"}, {"opt-tiny-postln-proj"}}; }

    /** SLEB's search (3 blocks) removes the same blocks in the same order as on the CPU; every candidate's loss within 1e-5. */
    @Test(dataProvider = "fp32Fixtures")
    public void slebRemovesTheSameBlocksAsOnTheCpu(String name) throws Exception {
        int[][] calib = CudaStories260KTest.windows(sizes()[3], sizes()[2]);
        try (Model m = fixture(name); CpuBackend cpu = new CpuBackend(); CudaBackend be = backend();
             LoadedModel a = cpu.load(m); LoadedModel b = be.load(m)) {
            PruneState want = CudaStories260KTest.search(a, calib), got = CudaStories260KTest.search(b, calib);
            System.out.printf("%s %s: removal order cpu %s cuda %s%n", getClass().getSimpleName(), name, want.removal_order, got.removal_order);
            Assert.assertEquals(got.removal_order, want.removal_order, name);
            for (int p = 0; p < want.phases.size(); p++)
                for (int c = 0; c < want.phases.get(p).candidates.size(); c++) {
                    double x = got.phases.get(p).candidates.get(c).loss, y = want.phases.get(p).candidates.get(c).loss;
                    Assert.assertTrue(Math.abs(x - y) <= 1e-5 * Math.abs(y), name + " phase " + (p + 1) + " candidate " + c + ": " + x + " vs " + y);
                }
        }
    }

    /** Two parts of a split on one device (two device objects on cuda:0). */
    protected CudaSplitBackend splitBackend() { return new CudaSplitBackend(new int[] {0, 0}); }

    /**
     * `--device cuda:0,1`-style split of the post-LN fixture (each part holds embed_tokens, the position table and
     * project_in/out): prefill and decode across the parts match one device (1e-6 relative).
     */
    @Test
    public void splitDecodeMatchesOneDevice() throws Exception {
        try (Model m = fixture("opt-tiny-postln-proj"); CudaBackend one = backend(); CudaSplitBackend two = splitBackend();
             LoadedModel a = one.load(m); LoadedModel b = two.load(m)) {
            int[] blocks = {0, 1, 3, 4};
            try (DecodeSession s = a.newSession(1, 16, blocks); DecodeSession t = b.newSession(1, 16, blocks)) {
                float[][] x = s.prefill(new int[][] {{4, 5, 6}}), y = t.prefill(new int[][] {{4, 5, 6}});
                Assert.assertTrue(worst(y[0], toDouble(x[0])) <= 1e-6, "prefill: split vs one device " + worst(y[0], toDouble(x[0])));
                for (int p = 0; p < 8; p++) {
                    x = s.step(new int[] {p + 10});
                    y = t.step(new int[] {p + 10});
                    Assert.assertTrue(worst(y[0], toDouble(x[0])) <= 1e-6, "step " + p + ": split vs one device " + worst(y[0], toDouble(x[0])));
                }
            }
        }
    }

    /** A session or a sequence longer than the learned position table is refused, not read past its end. */
    @Test
    public void positionsBeyondTheTableAreRefused() throws Exception {
        try (Model m = fixture("opt-tiny-preln"); CudaBackend be = backend(); LoadedModel lm = be.load(m)) {
            int max = m.config().maxSeqLen;
            IllegalArgumentException e = Assert.expectThrows(IllegalArgumentException.class, () -> lm.newSession(1, max + 1, new int[] {0}));
            Assert.assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
            Assert.expectThrows(IllegalArgumentException.class, () -> lm.embed(new int[][] {{5, 6}}, max - 1));
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
