package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector exp and sum built only from lane-wise IEEE operations, so they give the same bits whether the
 * JIT has compiled the Vector API to SIMD or runs its Java fallback. The library's EXP (SVML when
 * compiled, Math.exp when not) and reduceLanes(ADD) (tree order compiled, sequential not) change with JIT
 * state, which made a resumed prune run differ from an uninterrupted one in the last bits.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[S.length()]);

    private VectorMath() {}

    /** e^x to about 2 ulp (Cephes expf polynomial); 0 below -87.3, +inf above 88.7. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87.3f).min(88.3f);
        // n = round(x / ln 2) with the 1.5 * 2^23 trick: exact and identical in every execution mode
        FloatVector n = xc.fma(c(1.44269504088896341f), c(12582912f)).sub(12582912f);
        FloatVector r = n.fma(c(-0.693359375f), xc).add(n.mul(2.12194440e-4f)); // x - n ln2, ln2 split in two
        FloatVector p = r.fma(c(1.9875691500e-4f), c(1.3981999507e-3f));
        p = p.fma(r, c(8.3334519073e-3f));
        p = p.fma(r, c(4.1665795894e-2f));
        p = p.fma(r, c(1.6666665459e-1f));
        p = p.fma(r, c(5.0000001201e-1f));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector e = y.mul(scale);
        e = e.blend(0f, x.lt(-87.3f));
        return e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.7f));
    }

    private static FloatVector c(float v) { return FloatVector.broadcast(S, v); }

    /** Sum of the lanes in lane order, in double. */
    static double sum(FloatVector v) {
        float[] a = LANES.get();
        v.intoArray(a, 0);
        double s = 0;
        for (float f : a) s += f;
        return s;
    }
}
