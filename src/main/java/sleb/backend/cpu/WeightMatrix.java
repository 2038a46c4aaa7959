package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import sleb.model.DType;
import sleb.model.FiniteWeights;
import sleb.model.Tensor;

/**
 * A [rows x cols] weight matrix held on the heap in its stored dtype (fp32, or the raw 16-bit bits of
 * bf16/fp16), packed once at load time into panels of {@link #NR} rows: panel q holds rows
 * q*NR..q*NR+NR-1 column-major, element (row q*NR+c, col p) at q*cols*NR + p*NR + c, zero-padded past
 * the last row. A matmul then streams each panel contiguously while its NR outputs of a row of x stay
 * in vector registers. 16-bit panels are widened one panel at a time into a per-thread tile.
 */
public final class WeightMatrix {
    /** Panel width: four fp32 vectors of the preferred species. */
    public static final int NR = 4 * FloatVector.SPECIES_PREFERRED.length();

    public final int rows;
    public final int cols;
    public final DType dtype;
    final int panels;
    final float[] f32;
    final short[] bits;

    private WeightMatrix(int rows, int cols, DType dtype, float[] f32, short[] bits) {
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
        this.panels = (rows + NR - 1) / NR;
        this.f32 = f32;
        this.bits = bits;
    }

    /** Packs t; throws {@link sleb.model.ModelFormatException} naming the element if t holds NaN or infinity. */
    public static WeightMatrix of(Tensor t) {
        long rows = t.rows(), cols = t.cols();
        long padded = (rows + NR - 1) / NR * NR;
        if (padded * cols > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(t.name() + " has " + rows * cols + " elements, more than one Java array holds");
        int r = (int) rows, c = (int) cols, n = (int) (padded * cols);
        if (t.dtype() == DType.F32) {
            float[] a = new float[n];
            float[] row = new float[c];
            for (int i = 0; i < r; i++) {
                t.rowToFloat(i, 0, row, 0, c);
                FiniteWeights.check(t, i, row, 0, c);
                int base = (i / NR) * c * NR + i % NR;
                for (int p = 0; p < c; p++) a[base + p * NR] = row[p];
            }
            return new WeightMatrix(r, c, DType.F32, a, null);
        }
        short[] s = new short[n];
        short[] row = new short[c];
        for (int i = 0; i < r; i++) {
            t.rowBits(i, 0, row, 0, c);
            FiniteWeights.check(t, t.dtype(), i, row, 0, c);
            int base = (i / NR) * c * NR + i % NR;
            for (int p = 0; p < c; p++) s[base + p * NR] = row[p];
        }
        return new WeightMatrix(r, c, t.dtype(), null, s);
    }

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(FS.vectorBitSize() / 2));

    /** Widens 16-bit panel q into dst[0 .. cols*NR). */
    void widenPanel(int q, float[] dst) {
        int off = q * cols * NR, len = cols * NR;
        if (dtype == DType.BF16) {
            int l = FS.length(), lv = len - len % l;
            for (int i = 0; i < lv; i += l) {
                IntVector iv = (IntVector) ShortVector.fromArray(SS, bits, off + i).convertShape(VectorOperators.S2I, IS, 0);
                iv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, i);
            }
            for (int i = lv; i < len; i++) dst[i] = Float.intBitsToFloat((bits[off + i] & 0xffff) << 16);
        } else {
            for (int i = 0; i < len; i++) dst[i] = DType.f16ToFloat(bits[off + i]);
        }
    }

    /** Widens one row into dst[off .. off+cols) (a strided gather from its panel). */
    public void widenRow(int row, float[] dst, int off) {
        int src = (row / NR) * cols * NR + row % NR;
        switch (dtype) {
            case F32:
                for (int i = 0; i < cols; i++) dst[off + i] = f32[src + i * NR];
                break;
            case BF16:
                for (int i = 0; i < cols; i++) dst[off + i] = Float.intBitsToFloat((bits[src + i * NR] & 0xffff) << 16);
                break;
            default:
                for (int i = 0; i < cols; i++) dst[off + i] = DType.f16ToFloat(bits[src + i * NR]);
        }
    }

    public long bytes() { return (long) rows * cols * dtype.bytes; }
}
