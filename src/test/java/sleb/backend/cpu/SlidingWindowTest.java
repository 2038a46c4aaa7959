package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.Arrays;
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

/**
 * Sliding-window attention (Mistral's {@code sliding_window}, Qwen2's windowed layers) on the CPU against the
 * float64 reference that masks keys j &lt;= t - window, at sequence lengths beyond the window: prefill, pruned
 * block lists (each kept block keeps its own layer's window) and KV-cached decoding.
 */
public class SlidingWindowTest {
    /** Window 16 on layer 0, full attention on layer 1, window 24 on layer 2 (Qwen2 mixes windowed and full layers). */
    static final int[] WINDOWS = {16, 0, 24};

    static ModelConfig config() {
        return new ModelConfig("MistralForCausalLM", "mistral", 48, 100, 3, 6, 2, 8, 61, 256, 1e-5f, 10000.0,
                RopeStyle.HALF, false, false, null, 1, 2, WINDOWS);
    }

    private static int[][] tokens(int batch, int n, int vocab) {
        SplittableRandom r = new SplittableRandom(13);
        int[][] t = new int[batch][n];
        for (int[] row : t) for (int i = 0; i < n; i++) row[i] = r.nextInt(vocab);
        return t;
    }

    /** max |a - ref| / max |ref|. */
    private static double relErr(float[][] a, double[][] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++)
            for (int j = 0; j < ref[i].length; j++) {
                num = Math.max(num, Math.abs(a[i][j] - ref[i][j]));
                den = Math.max(den, Math.abs(ref[i][j]));
            }
        return num / den;
    }

    @Test
    public void prefillAppliesEachLayersWindow() {
        prefillAppliesEachLayersWindow(config(), 64);
    }

    /**
     * head_dim 12 is not a multiple of any vector length, so attention's scalar head tails run; 63 rows end in a
     * group of 3 query rows (rows are taken four at a time), whose missing fourth row is a copy.
     */
    @Test
    public void prefillAppliesEachLayersWindowAtAnOddHeadSize() {
        prefillAppliesEachLayersWindow(new ModelConfig("MistralForCausalLM", "mistral", 48, 100, 3, 4, 2, 12, 61, 256, 1e-5f, 10000.0,
                RopeStyle.HALF, false, false, null, 1, 2, WINDOWS), 63);
    }

    private static void prefillAppliesEachLayersWindow(ModelConfig c, int n) {
        Model m = SyntheticModel.create(c, DType.F32, 21);
        ReferenceForward ref = new ReferenceForward(m), full = ref.ignoringSlidingWindows();
        int[][] tok = tokens(2, n, c.vocabSize);
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            for (int[] blocks : new int[][] {{0, 1, 2}, {1, 2}, {0}}) {
                float[][] got = ModelLogits.of(lm, tok, blocks);
                for (int s = 0; s < 2; s++) {
                    float[][] mine = Arrays.copyOfRange(got, s * n, (s + 1) * n);
                    double e = relErr(mine, ref.logits(tok[s], blocks));
                    assertTrue(e < 1e-4, "blocks " + Arrays.toString(blocks) + ": relative error " + e + " against the windowed reference (bound 1e-4)");
                    double without = relErr(mine, full.logits(tok[s], blocks));
                    assertTrue(without > 1e-2, "blocks " + Arrays.toString(blocks) + ": full attention would differ by only " + without);
                    // positions inside the window see the same keys either way
                    double early = relErr(Arrays.copyOfRange(mine, 0, 16), Arrays.copyOfRange(full.logits(tok[s], blocks), 0, 16));
                    assertTrue(early < 1e-4, "positions < 16 must not depend on the window: " + early);
                }
            }
        }
    }

    @Test
    public void decodeWithKvCacheAppliesTheWindow() {
        ModelConfig c = config();
        Model m = SyntheticModel.create(c, DType.F32, 22);
        ReferenceForward ref = new ReferenceForward(m);
        int n = 60, prompt = 21;
        int[][] tok = tokens(2, n, c.vocabSize);
        int[] blocks = {0, 1, 2};
        double[][] want0 = ref.logits(tok[0], blocks), want1 = ref.logits(tok[1], blocks);
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m);
             DecodeSession s = lm.newSession(2, n, blocks)) {
            float[][] last = s.prefill(new int[][] {Arrays.copyOf(tok[0], prompt), Arrays.copyOf(tok[1], prompt)});
            for (int t = prompt; ; t++) {
                double[][] want = {want0[t - 1], want1[t - 1]};
                double e = relErr(last, want);
                assertTrue(e < 1e-4, "position " + (t - 1) + ": relative error " + e + " (bound 1e-4)");
                if (t == n) break;
                last = s.step(new int[] {tok[0][t], tok[1][t]});
            }
            assertEquals(s.position(), n);
        }
    }
}
