package sleb.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Checks for NaN and infinity in weights while a backend copies them anyway (CPU packing, CUDA upload), so the
 * check costs one compare per element already in cache. A non-finite weight makes every perplexity NaN; the
 * load stops with a {@link ModelFormatException} naming the tensor and the element.
 */
public final class FiniteWeights {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED;
    private static final int F32_EXP = 0x7f800000;

    private FiniteWeights() {}

    /**
     * Whether every value's exponent field (exp mask) is below all ones: the largest masked value over the range
     * reaches the mask only where some value is infinite or NaN. One AND and one MAX per vector.
     */
    private static boolean allFinite(float[] a, int off, int n) {
        int i = 0, top = 0;
        if (n >= FS.length()) {
            var acc = FloatVector.zero(FS).reinterpretAsInts();
            for (int end = n - n % FS.length(); i < end; i += FS.length())
                acc = acc.max(FloatVector.fromArray(FS, a, off + i).reinterpretAsInts().and(F32_EXP));
            top = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) top = Math.max(top, Float.floatToRawIntBits(a[off + i]) & F32_EXP);
        return top != F32_EXP;
    }

    private static boolean allFinite(short[] a, int off, int n, short exp) {
        int i = 0, top = 0;
        if (n >= SS.length()) {
            ShortVector acc = ShortVector.zero(SS);
            for (int end = n - n % SS.length(); i < end; i += SS.length()) acc = acc.max(ShortVector.fromArray(SS, a, off + i).and(exp));
            top = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) top = Math.max(top, a[off + i] & exp);
        return top != exp;
    }

    /** Throws if one of a[off .. off+n), t's elements from the start of row {@code row0} on (whole rows in order), is NaN or infinite. */
    public static void check(Tensor t, long row0, float[] a, int off, int n) {
        if (allFinite(a, off, n)) return;
        for (int i = 0; i < n; i++) if (!Float.isFinite(a[off + i])) throw nonFinite(t, row0, i, a[off + i]);
    }

    /**
     * The same for raw bf16 or fp16 bits (an all-ones exponent is infinity or NaN), as stored in type {@code dtype}.
     */
    public static void check(Tensor t, DType dtype, long row0, short[] a, int off, int n) {
        int exp = dtype == DType.BF16 ? 0x7f80 : 0x7c00;
        if (allFinite(a, off, n, (short) exp)) return;
        for (int i = 0; i < n; i++)
            if ((a[off + i] & exp) == exp)
                throw nonFinite(t, row0, i, dtype == DType.BF16 ? DType.bf16ToFloat(a[off + i]) : DType.f16ToFloat(a[off + i]));
    }

    /**
     * After finite values of t were narrowed to 16-bit type {@code to} (bits in a): throws if one overflowed to
     * infinity there, saying which backend step did it ({@code why}).
     */
    public static void checkNarrowed(Tensor t, DType to, long row0, short[] a, int off, int n, String why) {
        int exp = to == DType.BF16 ? 0x7f80 : 0x7c00;
        if (allFinite(a, off, n, (short) exp)) return;
        for (int i = 0; i < n; i++)
            if ((a[off + i] & exp) == exp) {
                long row = row0 + i / t.cols(), col = i % t.cols();
                throw new ModelFormatException("tensor " + t.name() + " holds " + t.get(row * t.cols() + col) + " at [" + row + ", " + col
                        + "], beyond the range of " + to + ", the dtype " + why + "; use --device cpu (it keeps each tensor's stored dtype)");
            }
    }

    /** A whole tensor widened to float (norms, biases), checked. */
    public static float[] floats(Tensor t) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) if (!Float.isFinite(a[i])) throw nonFinite(t, 0, i, a[i]);
        return a;
    }

    /** Element i counted from the start of row row0. */
    private static ModelFormatException nonFinite(Tensor t, long row0, long i, float v) {
        long row = row0 + i / t.cols(), col = i % t.cols();
        String at = t.rank() <= 1 ? "[" + col + "]" : "[" + row + ", " + col + "]";
        return new ModelFormatException("tensor " + t.name() + " holds " + v + " at " + at
                + "; the checkpoint is corrupt (or was saved after a diverged update), re-download or re-export it");
    }
}
