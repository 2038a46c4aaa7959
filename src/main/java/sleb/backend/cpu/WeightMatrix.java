package sleb.backend.cpu;

import sleb.model.DType;
import sleb.model.Tensor;

/**
 * A [rows x cols] weight matrix held on the heap in its stored dtype (fp32, or the raw 16-bit bits of
 * bf16/fp16). Products widen a few rows at a time into a scratch tile, never the whole matrix.
 */
public final class WeightMatrix {
    public final int rows;
    public final int cols;
    public final DType dtype;
    final float[] f32;
    final short[] bits;

    private WeightMatrix(int rows, int cols, DType dtype, float[] f32, short[] bits) {
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
        this.f32 = f32;
        this.bits = bits;
    }

    public static WeightMatrix of(Tensor t) {
        long rows = t.rows(), cols = t.cols();
        if (rows * cols > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(t.name() + " has " + rows * cols + " elements, more than one Java array holds");
        int r = (int) rows, c = (int) cols;
        if (t.dtype() == DType.F32) {
            float[] a = new float[r * c];
            for (int i = 0; i < r; i++) t.rowToFloat(i, 0, a, i * c, c);
            return new WeightMatrix(r, c, DType.F32, a, null);
        }
        short[] s = new short[r * c];
        for (int i = 0; i < r; i++) t.rowBits(i, 0, s, i * c, c);
        return new WeightMatrix(r, c, t.dtype(), null, s);
    }

    /** Widens rows [r0, r0+n) into dst[0 .. n*cols). */
    public void widenRows(int r0, int n, float[] dst) {
        int off = r0 * cols, len = n * cols;
        switch (dtype) {
            case F32:
                System.arraycopy(f32, off, dst, 0, len);
                break;
            case BF16:
                for (int i = 0; i < len; i++) dst[i] = Float.intBitsToFloat((bits[off + i] & 0xffff) << 16);
                break;
            default:
                for (int i = 0; i < len; i++) dst[i] = DType.f16ToFloat(bits[off + i]);
        }
    }

    /** Widens one row into dst[off .. off+cols). */
    public void widenRow(int row, float[] dst, int off) {
        int src = row * cols;
        switch (dtype) {
            case F32:
                System.arraycopy(f32, src, dst, off, cols);
                break;
            case BF16:
                for (int i = 0; i < cols; i++) dst[off + i] = Float.intBitsToFloat((bits[src + i] & 0xffff) << 16);
                break;
            default:
                for (int i = 0; i < cols; i++) dst[off + i] = DType.f16ToFloat(bits[src + i]);
        }
    }

    public long bytes() { return (long) rows * cols * dtype.bytes; }
}
