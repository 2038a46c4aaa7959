package sleb.model;

/**
 * Checks for NaN and infinity in weights while a backend copies them anyway (CPU packing, CUDA upload), so the
 * check costs one compare per element already in cache. A non-finite weight makes every perplexity NaN; the
 * load stops with a {@link ModelFormatException} naming the tensor and the element.
 */
public final class FiniteWeights {
    private FiniteWeights() {}

    /** Throws if one of a[off .. off+n), t's elements from the start of row {@code row0} on (whole rows in order), is NaN or infinite. */
    public static void check(Tensor t, long row0, float[] a, int off, int n) {
        for (int i = 0; i < n; i++) if (!Float.isFinite(a[off + i])) throw nonFinite(t, row0, i, a[off + i]);
    }

    /**
     * The same for raw bf16 or fp16 bits (an all-ones exponent is infinity or NaN), as stored in type {@code dtype}.
     */
    public static void check(Tensor t, DType dtype, long row0, short[] a, int off, int n) {
        int exp = dtype == DType.BF16 ? 0x7f80 : 0x7c00;
        for (int i = 0; i < n; i++)
            if ((a[off + i] & exp) == exp)
                throw nonFinite(t, row0, i, dtype == DType.BF16 ? DType.bf16ToFloat(a[off + i]) : DType.f16ToFloat(a[off + i]));
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
