package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.testng.annotations.Test;

/** VectorMath against Math.exp in double. */
public class VectorMathTest {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    @Test
    public void expMatchesMathExpWithinThreeUlp() {
        float[] x = new float[L], y = new float[L];
        double worst = 0;
        for (float v = -87f; v < 88f; v += 0.00137f * L) {
            for (int i = 0; i < L; i++) x[i] = v + 0.00137f * i;
            VectorMath.exp(x, y);
            for (int i = 0; i < L; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
            }
        }
        assertTrue(worst <= 3, "worst error " + worst + " ulp");
        float[] edge = new float[L];
        edge[0] = -100f;
        edge[1] = 0f;
        edge[2] = Float.NEGATIVE_INFINITY;
        if (L > 3) edge[3] = 100f;
        VectorMath.exp(edge, y);
        assertEquals(y[0], 0f);
        assertEquals(y[1], 1f);
        assertEquals(y[2], 0f);
        if (L > 3) assertEquals(y[3], Float.POSITIVE_INFINITY);
        // below the range the polynomial runs on an unclamped argument and a blend puts 0 in its place; NaN stays NaN
        float[] low = {-87.4f, -1e30f, -Float.MAX_VALUE, Float.NaN};
        for (float v : low) {
            java.util.Arrays.fill(edge, v);
            VectorMath.exp(edge, y);
            for (int i = 0; i < L; i++) assertEquals(y[i], Float.isNaN(v) ? Float.NaN : 0f, "e^" + v);
        }
    }

    /**
     * Softmax numerators, their sum, log-sum-exp's sum and SwiGLU over lengths with and without a tail, at an
     * offset, against double references. Bounds: each element 3 ulp of its exp (plus 2 roundings of fp32 for
     * SiLU's divide and multiply); the sum 1e-6 relative (3 ulp per term, 64 fp32 additions per lane).
     */
    @Test
    public void arrayLoopsMatchDoubleReferences() {
        SplittableRandom r = new SplittableRandom(3);
        for (int len : new int[] {1, L - 1, L, L + 3, 64 * L + 5, 32000}) {
            int off = 7;
            float[] a = new float[off + len + 4];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * 8);
            float[] orig = a.clone();
            float shift = VectorMath.max(a, off, len);
            float want = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < len; i++) want = Math.max(want, a[off + i]);
            assertEquals(shift, want, "max len " + len);
            double ref = 0;
            for (int i = 0; i < len; i++) ref += Math.exp(a[off + i] - shift); // the difference is taken in fp32, as the loop does
            double sum = VectorMath.sumExpShifted(a, off, len, shift);
            assertEquals(a, orig, "sumExpShifted leaves the array alone");
            assertTrue(Math.abs(sum - ref) <= 1e-6 * ref, "sum len " + len + ": " + sum + " vs " + ref);
            double stored = VectorMath.expShifted(a, off, len, shift);
            assertEquals(stored, sum, 0.0, "the same sum whether stored or not");
            for (int i = 0; i < a.length; i++) {
                if (i < off || i >= off + len) {
                    assertEquals(a[i], orig[i], "outside the range, untouched");
                    continue;
                }
                double e = Math.exp(orig[i] - shift);
                assertTrue(Math.abs(a[i] - e) <= 3 * Math.ulp((float) e) + 1e-44, "exp len " + len + " at " + i + ": " + a[i] + " vs " + e);
            }
            float[] gate = orig.clone(), up = new float[gate.length];
            for (int i = 0; i < up.length; i++) up[i] = (float) r.nextGaussian();
            gate[off] = 200f; // e^-200 underflows: silu(g) = g
            if (len > 1) gate[off + 1] = -200f; // e^200 overflows: silu(g) = -0
            float[] g0 = gate.clone();
            VectorMath.siluMul(gate, up, off, len);
            for (int i = 0; i < gate.length; i++) {
                if (i < off || i >= off + len) {
                    assertEquals(gate[i], g0[i], "outside the range, untouched");
                    continue;
                }
                double s = g0[i] / (1 + Math.exp(-(double) g0[i])) * up[i];
                assertTrue(Math.abs(gate[i] - s) <= 6 * Math.ulp((float) s) + 1e-44, "silu len " + len + " at " + i + ": " + gate[i] + " vs " + s);
            }
        }
    }
}
