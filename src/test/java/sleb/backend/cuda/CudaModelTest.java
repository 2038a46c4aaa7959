package sleb.backend.cuda;

import static sleb.backend.cuda.CudaTestSupport.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.backend.Activations;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.ReferenceForward;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.Tensor;

/** A tiny random model (dim 64, 2 blocks) on the GPU against a plain Java double forward. Skips without a GPU. */
public class CudaModelTest {
    @BeforeClass
    public void device() { requireDevice(); }

    /** Skips the class when its device is missing: a GPU here, the CPU emulator in {@link CudaEmulatedModelTest}. */
    protected void requireDevice() { requireGpu(); }

    protected CudaBackend backend() { return new CudaBackend(0); }

    /** Two parts of a split on one device (two device objects on cuda:0). */
    protected CudaSplitBackend splitBackend() { return new CudaSplitBackend(new int[] {0, 0}); }

    static Model tinyModel(DType t, RopeStyle style, boolean bias, long seed) { return tinyModel(t, style, bias, seed, null); }

    /** @param windows per layer sliding window (0: full attention), null for none */
    static Model tinyModel(DType t, RopeStyle style, boolean bias, long seed, int[] windows) {
        ModelConfig c = new ModelConfig(windows == null ? "LlamaForCausalLM" : "MistralForCausalLM", windows == null ? "llama" : "mistral",
                64, 96, 2, 4, 2, 16, 50, 128, 1e-5f, 10000.0, style, false, bias, null, 1, 2, windows);
        Random r = new Random(seed);
        Map<String, Tensor> ts = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, long[]> mat = (n, shape) ->
                ts.put(n, Tensor.ofFloats(n, t, shape, randn(r, (int) Tensor.numel(shape), 0.15)));
        java.util.function.BiConsumer<String, Integer> norm = (n, d) -> {
            float[] w = new float[d];
            for (int i = 0; i < d; i++) w[i] = 1f + (float) (r.nextGaussian() * 0.1);
            ts.put(n, Tensor.ofFloats(n, DType.F32, new long[] {d}, w));
        };
        mat.accept("model.embed_tokens.weight", new long[] {c.vocabSize, c.dim});
        mat.accept("lm_head.weight", new long[] {c.vocabSize, c.dim});
        norm.accept("model.norm.weight", c.dim);
        for (int i = 0; i < c.nLayers; i++) {
            mat.accept(Model.layer(i, "self_attn.q_proj.weight"), new long[] {c.qDim(), c.dim});
            mat.accept(Model.layer(i, "self_attn.k_proj.weight"), new long[] {c.kvDim(), c.dim});
            mat.accept(Model.layer(i, "self_attn.v_proj.weight"), new long[] {c.kvDim(), c.dim});
            mat.accept(Model.layer(i, "self_attn.o_proj.weight"), new long[] {c.dim, c.qDim()});
            mat.accept(Model.layer(i, "mlp.gate_proj.weight"), new long[] {c.hiddenDim, c.dim});
            mat.accept(Model.layer(i, "mlp.up_proj.weight"), new long[] {c.hiddenDim, c.dim});
            mat.accept(Model.layer(i, "mlp.down_proj.weight"), new long[] {c.dim, c.hiddenDim});
            norm.accept(Model.layer(i, "input_layernorm.weight"), c.dim);
            norm.accept(Model.layer(i, "post_attention_layernorm.weight"), c.dim);
            if (bias) {
                ts.put(Model.layer(i, "self_attn.q_proj.bias"), Tensor.ofFloats("qb", DType.F32, new long[] {c.qDim()}, randn(r, c.qDim(), 0.1)));
                ts.put(Model.layer(i, "self_attn.k_proj.bias"), Tensor.ofFloats("kb", DType.F32, new long[] {c.kvDim()}, randn(r, c.kvDim(), 0.1)));
                ts.put(Model.layer(i, "self_attn.v_proj.bias"), Tensor.ofFloats("vb", DType.F32, new long[] {c.kvDim()}, randn(r, c.kvDim(), 0.1)));
            }
        }
        return new Model(c, ts, null, Model.SourceFormat.SYNTHETIC, null);
    }

    @DataProvider
    public Object[][] variants() {
        return new Object[][] {
            {DType.F32, RopeStyle.HALF, false, false}, {DType.F32, RopeStyle.ADJACENT, true, false},
            {DType.BF16, RopeStyle.HALF, false, false}, {DType.F16, RopeStyle.ADJACENT, true, false},
            {DType.F32, RopeStyle.HALF, true, true}, {DType.BF16, RopeStyle.HALF, false, true},
        };
    }

    @Test(dataProvider = "variants")
    public void logitsNllDecodeMatchReference(DType t, RopeStyle style, boolean bias, boolean fallbackGemm) {
        Model m = tinyModel(t, style, bias, 7);
        int[][] tokens = new int[2][19];
        Random r = new Random(3);
        for (int[] row : tokens) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(m.config().vocabSize);
        int[] all = {0, 1}, pruned = {1};
        // fp32 1e-5-class (2e-5: two blocks of fp32 sums against double); 16-bit models 1e-2: the reference
        // rounds GEMM inputs as the backend does, so what is left is a rounding flipped by fp32-vs-double noise
        double tol = t == DType.F32 ? 2e-5 : 1e-2;
        ReferenceForward reference = new ReferenceForward(m, true);
        String prop = System.getProperty("sleb.cuda.gemm");
        if (fallbackGemm) System.setProperty("sleb.cuda.gemm", "fallback");
        try (CudaBackend be = backend(); LoadedModel lm = be.load(m)) {
            for (int[] blocks : new int[][] {all, pruned}) {
                float[][] logits = ModelLogits.of(lm, tokens, blocks);
                double[] nll = lm.nll(tokens, blocks);
                for (int b = 0; b < 2; b++) {
                    double[][] ref = reference.logits(tokens[b], blocks);
                    double worst = 0;
                    for (int p = 0; p < tokens[b].length; p++)
                        for (int v = 0; v < ref[p].length; v++)
                            worst = Math.max(worst, Math.abs(logits[b * tokens[b].length + p][v] - ref[p][v]) / Math.max(Math.abs(ref[p][v]), 1.0));
                    System.out.printf("%s %s %s bias %s %s: blocks %s seq %d worst logit error %.2e (bound %.0e)%n", getClass().getSimpleName(),
                            t, style, bias, fallbackGemm ? "fallback GEMM" : "GEMM", java.util.Arrays.toString(blocks), b, worst, tol);
                    for (int p = 0; p < tokens[b].length; p++)
                        assertClose(logits[b * tokens[b].length + p], ref[p], tol, 1.0, "logits b" + b + " t" + p);
                    assertClose(new double[] {nll[b]}, new double[] {ReferenceForward.nll(ref, tokens[b])}, tol, 1.0, "nll b" + b);
                }
            }
            // decode: prefill 11 tokens, then one at a time; every step's logits match the full forward
            double[][] ref0 = reference.logits(tokens[0], all), ref1 = reference.logits(tokens[1], all);
            try (DecodeSession s = lm.newSession(2, 32, all)) {
                int[][] head = {java.util.Arrays.copyOf(tokens[0], 11), java.util.Arrays.copyOf(tokens[1], 11)};
                float[][] lg = s.prefill(head);
                assertClose(lg[0], ref0[10], tol, 1.0, "prefill logits");
                for (int p = 11; p < tokens[0].length; p++) {
                    lg = s.step(new int[] {tokens[0][p], tokens[1][p]});
                    assertClose(lg[0], ref0[p], tol, 1.0, "decode logits b0 t" + p);
                    assertClose(lg[1], ref1[p], tol, 1.0, "decode logits b1 t" + p);
                }
            }
            // cosine of a state with itself is 1 per position; copy() is independent of its source
            try (Activations x = lm.embed(tokens); Activations y = lm.copy(x)) {
                lm.runBlock(0, y);
                double[] self = lm.cosineSum(x, x);
                assertClose(self, new double[] {19, 19}, 1e-9, 1, "cosineSum(x, x)");
                float[] xs = x.toHost(), ys = y.toHost();
                double[] ref = new double[2];
                for (int row = 0; row < 38; row++) {
                    double d = 0, na = 0, nb = 0;
                    for (int i = 0; i < 64; i++) {
                        d += (double) xs[row * 64 + i] * ys[row * 64 + i];
                        na += (double) xs[row * 64 + i] * xs[row * 64 + i];
                        nb += (double) ys[row * 64 + i] * ys[row * 64 + i];
                    }
                    ref[row / 19] += d / Math.sqrt(na * nb);
                }
                assertClose(lm.cosineSum(x, y), ref, 1e-9, 1, "cosineSum(x, block0(x))");
            }
        } finally {
            if (prop == null) System.clearProperty("sleb.cuda.gemm");
            else System.setProperty("sleb.cuda.gemm", prop);
        }
    }

    /**
     * Sliding windows of 16 and 24 positions (layer 0, layer 1) at 50 positions, fp32: prefill logits of both blocks
     * and of block 1 alone (it keeps its own window), and every KV-cached decode step from 20 to 50, against the
     * float64 reference that masks keys outside the window (bound 2e-5 relative, as the fp32 variants above);
     * full attention would be off by far more.
     */
    @Test
    public void slidingWindowMatchesReference() {
        Model m = tinyModel(DType.F32, RopeStyle.HALF, false, 9, new int[] {16, 24});
        int n = 50, prompt = 20;
        int[][] tokens = new int[2][n];
        Random r = new Random(4);
        for (int[] row : tokens) for (int i = 0; i < n; i++) row[i] = r.nextInt(m.config().vocabSize);
        ReferenceForward reference = new ReferenceForward(m, true), full = reference.ignoringSlidingWindows();
        double tol = 2e-5;
        try (CudaBackend be = backend(); LoadedModel lm = be.load(m)) {
            for (int[] blocks : new int[][] {{0, 1}, {1}}) {
                float[][] logits = ModelLogits.of(lm, tokens, blocks);
                for (int b = 0; b < 2; b++) {
                    double[][] ref = reference.logits(tokens[b], blocks), unwindowed = full.logits(tokens[b], blocks);
                    double off = 0;
                    for (int p = 0; p < n; p++) {
                        assertClose(logits[b * n + p], ref[p], tol, 1.0, "windowed logits blocks " + java.util.Arrays.toString(blocks) + " b" + b + " t" + p);
                        for (int v = 0; v < ref[p].length; v++) off = Math.max(off, Math.abs(logits[b * n + p][v] - unwindowed[p][v]));
                    }
                    org.testng.Assert.assertTrue(off > 1e-2, "full attention differs by only " + off + ": the test cannot see the window");
                }
            }
            int[] all = {0, 1};
            double[][] ref0 = reference.logits(tokens[0], all), ref1 = reference.logits(tokens[1], all);
            try (DecodeSession s = lm.newSession(2, 64, all)) {
                float[][] lg = s.prefill(new int[][] {java.util.Arrays.copyOf(tokens[0], prompt), java.util.Arrays.copyOf(tokens[1], prompt)});
                assertClose(lg[0], ref0[prompt - 1], tol, 1.0, "prefill logits");
                for (int p = prompt; p < n; p++) {
                    lg = s.step(new int[] {tokens[0][p], tokens[1][p]});
                    assertClose(lg[0], ref0[p], tol, 1.0, "windowed decode b0 t" + p);
                    assertClose(lg[1], ref1[p], tol, 1.0, "windowed decode b1 t" + p);
                }
            }
        }
    }

    /** Worst |a - b| / max(|b|, 1) over two logit tables. */
    private static double worst(float[][] a, float[][] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < a[i].length; j++) w = Math.max(w, Math.abs(a[i][j] - b[i][j]) / Math.max(Math.abs(b[i][j]), 1.0));
        return w;
    }

    /** Steps replayed from a CUDA graph give the logits of eager steps (same kernels, same order; bound 1e-6 relative). */
    @Test
    public void graphDecodeMatchesEagerDecode() {
        Model m = tinyModel(DType.BF16, RopeStyle.HALF, false, 21);
        int[] blocks = {0, 1};
        try (CudaBackend be = backend(); LoadedModel lm = be.load(m);
             CudaDecodeSession g = ((CudaLoadedModel) lm).newSession(2, 40, blocks, true);
             CudaDecodeSession e = ((CudaLoadedModel) lm).newSession(2, 40, blocks, false)) {
            int[][] prompt = {{1, 2, 3, 4, 5}, {9, 8, 7, 6, 5}};
            assertClose(flat(g.prefill(prompt)), flat(e.prefill(prompt)), 1e-6, 1.0, "prefill");
            for (int p = 0; p < 30; p++) { // far enough that attention_decode's 8 warps all see several keys
                int[] next = {(p * 7 + 3) % 50, (p * 11 + 1) % 50};
                float[][] a = g.step(next), b = e.step(next);
                org.testng.Assert.assertTrue(g.usesGraphs(), "graph capture failed on this GPU");
                org.testng.Assert.assertTrue(worst(a, b) <= 1e-6, "step " + p + ": graph vs eager worst relative difference " + worst(a, b));
            }
            org.testng.Assert.assertEquals(g.position(), 35);
        }
    }

    /** `--device cuda:0,0`-style split (two device objects, one GPU): decoding across the parts matches one device. */
    @Test
    public void splitDecodeMatchesOneDevice() {
        Model m = tinyModel(DType.BF16, RopeStyle.HALF, false, 22);
        int[] blocks = {0, 1};
        try (CudaBackend one = backend(); CudaSplitBackend two = splitBackend();
             LoadedModel a = one.load(m); LoadedModel b = two.load(m);
             DecodeSession s = a.newSession(1, 16, blocks); DecodeSession t = b.newSession(1, 16, blocks)) {
            float[][] x = s.prefill(new int[][] {{4, 5, 6}}), y = t.prefill(new int[][] {{4, 5, 6}});
            org.testng.Assert.assertTrue(worst(y, x) <= 1e-6, "prefill: split vs one device " + worst(y, x));
            for (int p = 0; p < 8; p++) {
                x = s.step(new int[] {p + 10});
                y = t.step(new int[] {p + 10});
                org.testng.Assert.assertTrue(worst(y, x) <= 1e-6, "step " + p + ": split vs one device " + worst(y, x));
            }
        }
    }

    private static double[] flat(float[][] a) {
        int n = 0;
        for (float[] r : a) n += r.length;
        double[] d = new double[n];
        int i = 0;
        for (float[] r : a) for (float v : r) d[i++] = v;
        return d;
    }
}
