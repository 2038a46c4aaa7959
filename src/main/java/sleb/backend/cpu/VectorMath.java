package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector exp over arrays (softmax, log-sum-exp, SiLU), built only from lane-wise IEEE operations, so they give
 * the same bits whether the JIT has compiled the Vector API to SIMD or runs its Java fallback. The library's
 * EXP (SVML when compiled, Math.exp when not) and reduceLanes(ADD) (tree order compiled, sequential not)
 * change with JIT state, which made a resumed prune run differ from an uninterrupted one in the last bits.
 *
 * <p>e^x is the Cephes expf polynomial, about 2 ulp: 0 below -87.3, +inf above 88.7. It is written out once,
 * in {@link #loop}: a method taking vectors is not reliably inlined into its callers (HotSpot skips callees
 * whose compiled code is large), and a vector that crosses a call that is not inlined is boxed, ~50x slower.
 * Array tails shorter than a vector go through a padded lane buffer, so every element takes the same path.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Vectors summed in fp32 lanes before the lanes are added into the double total (bounds fp32 rounding to 64 terms). */
    private static final int BLOCK = 64;
    private static final ThreadLocal<float[][]> TAIL = ThreadLocal.withInitial(() -> new float[][] {new float[L], new float[L]});

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private VectorMath() {}

    /** e^(a[i] - shift) written back over a[off .. off+len); returns their sum (fp32 per lane over 64 vectors, then double). */
    static double expShifted(float[] a, int off, int len, float shift) { return exp(a, off, 1f, shift, a, off, len); }

    /** The sum of e^(a[i] - shift) over a[off .. off+len), a unchanged (summed as {@link #expShifted}). */
    static double sumExpShifted(float[] a, int off, int len, float shift) { return exp(a, off, 1f, shift, scratch(len), 0, len); }

    /** SwiGLU: gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + e^-gate[i]) * up[i] over [off, off+len). */
    static void siluMul(float[] gate, float[] up, int off, int len) {
        float[] e = scratch(len);
        exp(gate, off, -1f, 0f, e, 0, len);
        int lv = len - len % L;
        for (int i = 0; i < lv; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, off + i);
            g.div(FloatVector.fromArray(S, e, i).add(1f)).mul(FloatVector.fromArray(S, up, off + i)).intoArray(gate, off + i);
        }
        for (int i = lv; i < len; i++) gate[off + i] = gate[off + i] / (1f + e[i]) * up[off + i];
    }

    /** e^x lane by lane for x[0 .. L) (the tests' window into the polynomial). */
    static void exp(float[] x, float[] y) { exp(x, 0, 1f, 0f, y, 0, L); }

    private static float[] scratch(int len) {
        float[] s = SCRATCH.get();
        if (s.length < len) {
            s = new float[len];
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * dst[dOff + i] = e^(scale * src[off + i] - shift) for i < len (scale is 1 or -1, so the argument is exact up to
     * the subtraction); returns the sum of those values: fp32 lanes over blocks of 64 vectors, each block's lanes
     * added into a double in lane order. The tail shorter than a vector goes through a padded lane buffer (-inf:
     * e^x = 0), so every element takes the same path.
     */
    private static double exp(float[] src, int off, float scale, float shift, float[] dst, int dOff, int len) {
        int lv = len - len % L;
        double total = loop(src, off, scale, shift, dst, dOff, lv);
        if (lv == len) return total;
        float[] t = TAIL.get()[0];
        java.util.Arrays.fill(t, Float.NEGATIVE_INFINITY);
        for (int i = lv; i < len; i++) t[i - lv] = src[off + i] * scale;
        total += loop(t, 0, 1f, shift, t, 0, L);
        System.arraycopy(t, 0, dst, dOff + lv, len - lv);
        return total;
    }

    /** The one copy of the exp polynomial, over whole vectors (len a multiple of L), branch-free inside. */
    private static double loop(float[] src, int off, float scale, float shift, float[] dst, int dOff, int len) {
        float[] lanes = TAIL.get()[1];
        double total = 0;
        for (int b0 = 0; b0 < len; b0 += BLOCK * L) {
            FloatVector acc = FloatVector.zero(S);
            for (int i = b0, end = Math.min(len, b0 + BLOCK * L); i < end; i += L) {
                FloatVector x = FloatVector.fromArray(S, src, off + i).mul(scale).sub(shift);
                // clamped above only, by a compare and a blend: Java's max and min (NaN and -0 rules) compiled to five
                // instructions each. Lanes below -87.3 compute garbage that the blend to 0 below replaces.
                FloatVector xc = x.blend(88.3f, x.compare(VectorOperators.GT, 88.3f));
                // n = round(x / ln 2) with the 1.5 * 2^23 trick: exact and identical in every execution mode. t's low
                // mantissa bits then hold n itself, read without a float-to-int convert (which JDK 17 does not compile
                // to SIMD on AVX2: it fell back to Java and cost more than the rest of the polynomial)
                FloatVector t = xc.fma(1.44269504088896341f, 12582912f);
                FloatVector n = t.sub(12582912f);
                FloatVector r = n.fma(FloatVector.broadcast(S, -0.693359375f), xc).add(n.mul(2.12194440e-4f)); // x - n ln2, ln2 split in two
                FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
                p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
                p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
                p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
                p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
                FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
                IntVector ni = t.reinterpretAsInts().sub(0x4B400000); // bits of 1.5 * 2^23
                FloatVector e = y.mul(ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
                e = e.blend(0f, x.lt(-87.3f)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.7f));
                e.intoArray(dst, dOff + i);
                acc = acc.add(e);
            }
            acc.intoArray(lanes, 0);
            for (float f : lanes) total += f;
        }
        return total;
    }

    /** The largest of a[off .. off+len) (-inf when len is 0); max is exact, so lane order does not matter. */
    static float max(float[] a, int off, int len) {
        int lv = len - len % L;
        float m = Float.NEGATIVE_INFINITY;
        if (lv > 0) {
            FloatVector v = FloatVector.fromArray(S, a, off);
            for (int i = L; i < lv; i += L) v = v.max(FloatVector.fromArray(S, a, off + i));
            m = v.reduceLanes(VectorOperators.MAX);
        }
        for (int i = lv; i < len; i++) m = Math.max(m, a[off + i]);
        return m;
    }
}
