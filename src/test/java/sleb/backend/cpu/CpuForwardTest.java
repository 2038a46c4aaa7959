package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.SplittableRandom;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;
import sleb.util.Parallel;

/** The CPU backend against the float64 reference on tiny random models of every supported variant. */
public class CpuForwardTest {
    private static ModelConfig cfg(int dim, int hidden, int layers, int heads, int kv, int vocab, RopeStyle rope,
                                   boolean tied, boolean bias, ModelConfig.Llama3RopeScaling scaling) {
        return new ModelConfig("LlamaForCausalLM", "llama", dim, hidden, layers, heads, kv, dim / heads, vocab, 256,
                1e-5f, 10000.0, rope, tied, bias, scaling, 1, 2);
    }

    @DataProvider
    public Object[][] variants() {
        return new Object[][] {
            {"llama2c-style adjacent rope, tied, GQA", cfg(48, 100, 3, 6, 2, 61, RopeStyle.ADJACENT, true, false, null), DType.F32, 1e-4},
            {"HF rotate-half, untied, MHA", cfg(64, 96, 2, 4, 4, 97, RopeStyle.HALF, false, false, null), DType.F32, 1e-4},
            {"qwen2-style q/k/v bias", cfg(32, 80, 2, 4, 2, 50, RopeStyle.HALF, false, true, null), DType.F32, 1e-4},
            {"llama3 rope scaling", cfg(64, 128, 2, 4, 1, 70, RopeStyle.HALF, true, false,
                    new ModelConfig.Llama3RopeScaling(8, 1, 4, 16)), DType.F32, 1e-4},
            {"bf16 weights", cfg(48, 100, 2, 6, 3, 61, RopeStyle.HALF, false, false, null), DType.BF16, 1e-4},
            {"f16 weights", cfg(48, 100, 2, 6, 3, 61, RopeStyle.HALF, false, false, null), DType.F16, 1e-4},
        };
    }

    private static int[][] randomTokens(int batch, int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] t = new int[batch][n];
        for (int[] row : t) for (int i = 0; i < n; i++) row[i] = r.nextInt(vocab);
        return t;
    }

    /** max |a - ref| / max |ref| over all elements. */
    private static double relErr(float[][] a, double[][] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                num = Math.max(num, Math.abs(a[i][j] - ref[i][j]));
                den = Math.max(den, Math.abs(ref[i][j]));
            }
        }
        return num / den;
    }

    @Test(dataProvider = "variants")
    public void logitsAndNllMatchFloat64Reference(String name, ModelConfig c, DType dtype, double bound) {
        // bf16/f16 round the weights once when stored; the reference reads the same stored values, so the
        // only difference left is fp32 against fp64 arithmetic: the same bound holds.
        Model m = SyntheticModel.create(c, dtype, 42);
        ReferenceForward ref = new ReferenceForward(m);
        int[][] tokens = randomTokens(2, 19, c.vocabSize, 7);
        int[] all = new int[c.nLayers];
        for (int i = 0; i < all.length; i++) all[i] = i;
        int[] skipped = java.util.Arrays.copyOfRange(all, 1, all.length);
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            for (int[] blocks : new int[][] {all, skipped}) {
                float[][] got = ModelLogits.of(lm, tokens, blocks);
                double[] nll = lm.nll(tokens, blocks);
                for (int s = 0; s < tokens.length; s++) {
                    double[][] want = ref.logits(tokens[s], blocks);
                    float[][] mine = java.util.Arrays.copyOfRange(got, s * 19, (s + 1) * 19);
                    double e = relErr(mine, want);
                    assertTrue(e < bound, name + ": logits relative error " + e);
                    double wantNll = ref.nll(tokens[s], blocks);
                    assertEquals(nll[s], wantNll, Math.abs(wantNll) * bound, name + ": nll");
                }
                // the scored-half variant (llama.cpp's protocol): the same values from position 7 on, NaN before
                float[][] every = lm.positionNll(tokens, blocks), tail = lm.positionNll(tokens, blocks, 7);
                for (int s = 0; s < tokens.length; s++)
                    for (int t = 0; t < every[s].length; t++)
                        if (t < 7) assertTrue(Float.isNaN(tail[s][t]), name + ": position " + t + " before from is NaN");
                        else assertEquals(tail[s][t], every[s][t], 0f, name + ": position " + t);
            }
            // decoding: one row at a time goes through the single-row kernels (16-bit panels read directly)
            try (sleb.backend.DecodeSession ds = lm.newSession(1, 19, all)) {
                double[][] want = ref.logits(tokens[0], all);
                float[][] last = ds.prefill(new int[][] {{tokens[0][0]}});
                for (int t = 1; t <= 19; t++) {
                    double e = relErr(last, new double[][] {want[t - 1]});
                    assertTrue(e < bound, name + ": decoded logits at position " + (t - 1) + ", relative error " + e);
                    if (t < 19) last = ds.step(new int[] {tokens[0][t]});
                }
            }
        }
    }

    @Test
    public void decodeSessionMatchesFullForward() {
        ModelConfig c = cfg(48, 100, 3, 6, 2, 61, RopeStyle.HALF, false, false, null);
        Model m = SyntheticModel.create(c, DType.F32, 3);
        int[][] tokens = randomTokens(3, 12, c.vocabSize, 11);
        int[] blocks = {0, 2};
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            float[][] full = ModelLogits.of(lm, tokens, blocks);
            try (DecodeSession s = lm.newSession(3, 16, blocks)) {
                int[][] prompt = new int[3][];
                for (int b = 0; b < 3; b++) prompt[b] = java.util.Arrays.copyOf(tokens[b], 5);
                float[][] last = s.prefill(prompt);
                for (int t = 5; t <= 12; t++) {
                    for (int b = 0; b < 3; b++) {
                        float[] want = full[b * 12 + t - 1];
                        for (int v = 0; v < c.vocabSize; v++) assertEquals(last[b][v], want[v], 1e-4 * 10, "seq " + b + " pos " + (t - 1));
                    }
                    if (t == 12) break;
                    int[] next = new int[3];
                    for (int b = 0; b < 3; b++) next[b] = tokens[b][t];
                    last = s.step(next);
                }
                assertEquals(s.position(), 12);
            }
        }
    }

    @Test
    public void matmulHandlesEveryTailShape() {
        SplittableRandom r = new SplittableRandom(5);
        for (int[] nmk : new int[][] {{1, 1, 1}, {3, 5, 7}, {4, 4, 16}, {9, 6, 33}, {70, 130, 50}, {5, 3, 100}}) {
            int n = nmk[0], mm = nmk[1], k = nmk[2];
            float[] x = new float[n * k], w = new float[mm * k];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            WeightMatrix wm = WeightMatrix.of(sleb.model.Tensor.ofFloats("w", DType.F32, new long[] {mm, k}, w));
            float[] out = new float[n * mm];
            java.util.Arrays.fill(out, 1f);
            try (Parallel p = new Parallel(2)) {
                MatMul.apply(p, x, 0, n, wm, out, 0, mm, true); // accumulate onto ones
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < mm; j++) {
                    double s = 1;
                    for (int q = 0; q < k; q++) s += (double) x[i * k + q] * w[j * k + q];
                    assertEquals(out[i * mm + j], s, 1e-4 * Math.max(1, Math.sqrt(k)), "n=" + n + " m=" + mm + " k=" + k);
                }
            }
        }
    }
}
