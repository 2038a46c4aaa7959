package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.SplittableRandom;
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

/**
 * The paths the tiny shapes of CpuForwardTest do not reach: head_dim 64 with 70 positions (attention's
 * two-vector loops over positions and head, the one-row decoding loops) and k past one matmul k-slice.
 */
public class CpuLongShapesTest {
    private static final ModelConfig C = new ModelConfig("LlamaForCausalLM", "llama", 128, 96, 2, 2, 1, 64, 40, 256, 1e-5f, 10000.0,
            RopeStyle.HALF, false, false, null, 1, 2);

    @Test
    public void headDim64Over70PositionsMatchesReferenceAndDecoding() {
        Model m = SyntheticModel.create(C, DType.F32, 9);
        ReferenceForward ref = new ReferenceForward(m);
        SplittableRandom r = new SplittableRandom(4);
        int n = 70;
        int[][] tokens = new int[2][n];
        for (int[] row : tokens) for (int i = 0; i < n; i++) row[i] = r.nextInt(C.vocabSize);
        int[] blocks = {0, 1};
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            float[][] full = ModelLogits.of(lm, tokens, blocks);
            for (int s = 0; s < 2; s++) {
                double[][] want = ref.logits(tokens[s], blocks);
                double num = 0, den = 0;
                for (int t = 0; t < n; t++) {
                    for (int v = 0; v < C.vocabSize; v++) {
                        num = Math.max(num, Math.abs(full[s * n + t][v] - want[t][v]));
                        den = Math.max(den, Math.abs(want[t][v]));
                    }
                }
                assertTrue(num / den < 1e-4, "relative error " + num / den);
            }
            try (DecodeSession ds = lm.newSession(2, n, blocks)) {
                int[][] prompt = {java.util.Arrays.copyOf(tokens[0], 40), java.util.Arrays.copyOf(tokens[1], 40)};
                float[][] last = ds.prefill(prompt);
                for (int t = 40; t <= n; t++) {
                    for (int b = 0; b < 2; b++)
                        for (int v = 0; v < C.vocabSize; v++) assertEquals(last[b][v], full[b * n + t - 1][v], 1e-3, "seq " + b + " pos " + (t - 1));
                    if (t == n) break;
                    last = ds.step(new int[] {tokens[0][t], tokens[1][t]});
                }
            }
        }
    }

    @Test
    public void matmulAcrossKSlices() {
        SplittableRandom r = new SplittableRandom(6);
        int n = 9, mm = 70, k = 1100;
        float[] x = new float[n * k], w = new float[mm * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            WeightMatrix wm = WeightMatrix.of(sleb.model.Tensor.ofFloats("w", dt, new long[] {mm, k}, w));
            float[] out = new float[n * mm];
            java.util.Arrays.fill(out, 1f);
            try (Parallel p = new Parallel(2)) {
                MatMul.apply(p, x, 0, n, wm, out, 0, mm, true);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < mm; j++) {
                    double s = 1;
                    for (int q = 0; q < k; q++) {
                        float wq = dt == DType.F32 ? w[j * k + q] : DType.bf16ToFloat(DType.floatToBf16(w[j * k + q]));
                        s += (double) x[i * k + q] * wq;
                    }
                    assertEquals(out[i * mm + j], s, 1e-3 * Math.sqrt(k), dt + " n=" + i + " m=" + j);
                }
            }
        }
    }
}
