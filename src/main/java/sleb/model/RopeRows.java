package sleb.model;

/**
 * Moves q/k projection rows (and biases) between the two RoPE layouts. Interleaved ({@link RopeStyle#ADJACENT}:
 * llama2.c, Meta, GGUF) keeps rotary pair j of a head at rows 2j, 2j+1; rotate-half ({@link RopeStyle#HALF}: Hugging
 * Face) at rows j, j + headDim/2. Row h*hd + 2j + e (interleaved) is row h*hd + e*hd/2 + j (rotate-half); this is
 * convert_hf_to_gguf's permute and its inverse.
 */
public final class RopeRows {
    private RopeRows() {}

    /** Interleaved to rotate-half (llama2.c or GGUF weights into Hugging Face's layout). */
    public static Tensor toRotateHalf(String name, Tensor t, int headDim) { return permute(name, t, headDim, true); }

    /** Rotate-half to interleaved (Hugging Face weights into GGUF's layout). */
    public static Tensor toAdjacent(String name, Tensor t, int headDim) { return permute(name, t, headDim, false); }

    /** A 1-D tensor (a bias) is permuted element by element, a 2-D one row by row. */
    private static Tensor permute(String name, Tensor t, int headDim, boolean toHalf) {
        int rows = (int) (t.rank() == 1 ? t.dim(0) : t.rows()), cols = (int) (t.rank() == 1 ? 1 : t.cols()), half = headDim / 2;
        float[] src = t.toFloatArray(), dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            int h = r / headDim, w = r % headDim, j = w / 2, e = w % 2;
            int halfRow = h * headDim + e * half + j;
            if (toHalf) System.arraycopy(src, r * cols, dst, halfRow * cols, cols);
            else System.arraycopy(src, halfRow * cols, dst, r * cols, cols);
        }
        return Tensor.ofFloats(name, t.dtype(), t.shape(), dst);
    }
}
