package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import sleb.model.DType;
import sleb.model.FiniteWeights;
import sleb.model.Tensor;

/**
 * A [rows x cols] weight matrix (nn.Linear's [out_features x in_features]) held on the heap in its stored
 * dtype, packed once at load time into panels of {@link #NR} rows, so a matmul streams each panel
 * contiguously while NR outputs of a row of x stay in vector registers.
 *
 * <p>fp32: panel q holds rows q*NR..q*NR+NR-1 column-major, element (row q*NR+c, col p) at
 * q*cols*NR + p*NR + c, zero-padded past the last row.
 *
 * <p>bf16 and fp16 keep their 16 bits, two to an int: for column p of panel q the NR/2 ints at
 * q*cols*NR/2 + p*NR/2 hold the panel's four vectors of L = NR/4 lanes as two pairs, int h*L + l holding
 * row c = 2hL + l in its low half and row c + L in its high half. One int-vector load then widens to two
 * float vectors with lane-wise shifts and masks only (bf16: {@code i << 16} and {@code i & 0xffff0000}),
 * no lane shuffles, which keeps decoding at memory speed on 2 bytes per weight.
 */
public final class WeightMatrix {
    /** Panel width: four fp32 vectors of the preferred species. */
    public static final int NR = 4 * FloatVector.SPECIES_PREFERRED.length();
    static final int L = NR / 4;

    public final int rows;
    public final int cols;
    public final DType dtype;
    final int panels;
    /** fp32 panels, or null */
    final float[] f32;
    /** bf16/fp16 panels, two values per int as described above, or null */
    final int[] packed;

    private WeightMatrix(int rows, int cols, DType dtype, float[] f32, int[] packed) {
        this.rows = rows;
        this.cols = cols;
        this.dtype = dtype;
        this.panels = (rows + NR - 1) / NR;
        this.f32 = f32;
        this.packed = packed;
    }

    /**
     * Packs t (F32, BF16 or F16; 2-D). Throws {@link sleb.model.ModelFormatException} naming the element if t
     * holds NaN or infinity (the 16-bit widening below relies on finite values), IllegalArgumentException
     * when the packed matrix would not fit one Java array.
     */
    public static WeightMatrix of(Tensor t) {
        long rows = t.rows(), cols = t.cols();
        long padded = (rows + NR - 1) / NR * NR;
        boolean wide = t.dtype() == DType.F32;
        if (padded * cols / (wide ? 1 : 2) > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(t.name() + " has " + rows * cols + " elements, more than one Java array holds");
        int r = (int) rows, c = (int) cols;
        if (wide) {
            float[] a = new float[(int) (padded * cols)];
            float[] row = new float[c];
            for (int i = 0; i < r; i++) {
                t.rowToFloat(i, 0, row, 0, c);
                FiniteWeights.check(t, i, row, 0, c);
                int base = (i / NR) * c * NR + i % NR;
                for (int p = 0; p < c; p++) a[base + p * NR] = row[p];
            }
            return new WeightMatrix(r, c, DType.F32, a, null);
        }
        if (t.dtype() != DType.BF16 && t.dtype() != DType.F16)
            throw new IllegalArgumentException(t.name() + " is " + t.dtype() + "; the CPU backend holds F32, BF16 or F16 weights");
        int[] s = new int[(int) (padded * cols / 2)];
        short[] row = new short[c];
        for (int i = 0; i < r; i++) {
            t.rowBits(i, 0, row, 0, c);
            FiniteWeights.check(t, t.dtype(), i, row, 0, c);
            for (int p = 0; p < c; p++) {
                int at = packedIndex(c, i, p), shift = packedShift(i);
                s[at] |= (row[p] & 0xffff) << shift;
            }
        }
        return new WeightMatrix(r, c, t.dtype(), null, s);
    }

    /** Index of the int holding (row, col) in the 16-bit packing. */
    private static int packedIndex(int cols, int row, int col) {
        int c = row % NR, pair = c / (2 * L), lane = c % L;
        return (row / NR) * cols * (NR / 2) + col * (NR / 2) + pair * L + lane;
    }

    /** 0 when (row, col) sits in the low half of its int, 16 in the high half. */
    private static int packedShift(int row) { return (row % NR) % (2 * L) >= L ? 16 : 0; }

    static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    /** 2^112: rescales an fp16 exponent field moved into fp32 position (bias 15 -> 127) */
    static final float F16_SCALE = 0x1p112f;

    /**
     * Widens 16-bit panel q into dst[0 .. cols*NR) in the fp32 panel layout. bf16: the low half shifted up, the
     * high half masked. fp16: exponent and mantissa moved up 13 bits and scaled by 2^112 (exact, subnormals
     * included), then the sign; finite values only, which {@link #of} guarantees. The conversions are written
     * out in the loops: a helper taking vectors is not reliably inlined, and a vector that escapes is boxed.
     */
    void widenPanel(int q, float[] dst) {
        int off = q * cols * (NR / 2), end = off + cols * (NR / 2);
        if (dtype == DType.BF16) {
            for (int o = off, d = 0; o < end; o += L, d += 2 * L) {
                IntVector u = IntVector.fromArray(IS, packed, o);
                u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, d);
                u.and(0xffff0000).reinterpretAsFloats().intoArray(dst, d + L);
            }
        } else {
            for (int o = off, d = 0; o < end; o += L, d += 2 * L) {
                IntVector u = IntVector.fromArray(IS, packed, o);
                u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts()
                        .or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, d);
                u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts()
                        .or(u.and(0x80000000)).reinterpretAsFloats().intoArray(dst, d + L);
            }
        }
    }

    /** Widens one row into dst[off .. off+cols) (a strided gather from its panel). */
    public void widenRow(int row, float[] dst, int off) {
        if (dtype == DType.F32) {
            int src = (row / NR) * cols * NR + row % NR;
            for (int i = 0; i < cols; i++) dst[off + i] = f32[src + i * NR];
            return;
        }
        int at = packedIndex(cols, row, 0), shift = packedShift(row);
        for (int i = 0; i < cols; i++) {
            short h = (short) (packed[at + i * (NR / 2)] >>> shift);
            dst[off + i] = dtype == DType.BF16 ? DType.bf16ToFloat(h) : DType.f16ToFloat(h);
        }
    }

    /** Bytes of the weights in their stored dtype (padding excluded). */
    public long bytes() { return (long) rows * cols * dtype.bytes; }
}
