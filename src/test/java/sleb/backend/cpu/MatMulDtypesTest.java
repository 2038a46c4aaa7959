package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.SplittableRandom;
import org.testng.annotations.Test;
import sleb.model.DType;
import sleb.model.Tensor;
import sleb.util.Parallel;

/**
 * MatMul on fp32, bf16 and fp16 weights against a float64 dot product of the same (dtype-rounded) weights,
 * through both 16-bit paths: fewer than four rows read the packed panel directly (decoding), more widen it
 * into a tile (prompts), and both prompt tiles (6 x 2 on packed x, 4 x 4) whichever this machine uses. Bound: fp32 accumulation of k products, |error| <= (k + 1) * 2^-24 * sum |x_p w_p|
 * (the standard recursive-summation bound, FMA or not), which a wrong lane, row or half of a packed int
 * exceeds by orders of magnitude.
 */
public class MatMulDtypesTest {
    private static final DType[] DTYPES = {DType.F32, DType.BF16, DType.F16};

    private static float round(DType dt, float v) {
        switch (dt) {
            case BF16: return DType.bf16ToFloat(DType.floatToBf16(v));
            case F16: return DType.f16ToFloat(DType.floatToF16(v));
            default: return v;
        }
    }

    @Test
    public void everyShapeAndDtypeMatchesFloat64() {
        int nr = WeightMatrix.NR;
        int[][] shapes = {{1, 1, 1}, {1, 70, 33}, {1, 2 * nr + 3, 100}, {2, 130, 50}, {3, 5, 7}, {4, 65, 9}, {9, 70, 1100},
                {70, 130, 50}, {1, nr, 600}, {5, 3 * nr, 17}, {9, 40, 4500}, {13, 40, 4500}, {66, 40, 33}, {6, 40, 20},
                {13, 2 * nr + 1, 31}, {131, 3, 9}};
        // k 4500: three balanced k slices, with 6-row strips at rows 0 and 6 (13 rows); 70 and 131 rows: strips plus a
        // 4-row tile and single rows; few panels call for several row chunks, and with 66 and 131 rows the last chunks
        // are empty after rounding to whole strips
        SplittableRandom r = new SplittableRandom(11);
        try (Parallel par = new Parallel(2)) {
            for (boolean sixByTwo : new boolean[] {true, false})
            for (DType dt : DTYPES) {
                for (int[] s : shapes) {
                    int n = s[0], m = s[1], k = s[2];
                    float[] x = new float[n * k], w = new float[m * k];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * (r.nextInt(8) == 0 ? 1e-6 : 1));
                    WeightMatrix wm = WeightMatrix.of(Tensor.ofFloats("w", dt, new long[] {m, k}, w));
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] out = new float[n * m];
                        java.util.Arrays.fill(out, acc ? 0.5f : Float.NaN); // without acc every output must be overwritten
                        MatMul.apply(par, x, 0, n, wm, out, 0, m, acc, sixByTwo, 64 << 20);
                        for (int i = 0; i < n; i++) {
                            for (int j = 0; j < m; j++) {
                                double want = acc ? 0.5 : 0, mag = acc ? 0.5 : 0;
                                for (int p = 0; p < k; p++) {
                                    double t = (double) x[i * k + p] * round(dt, w[j * k + p]);
                                    want += t;
                                    mag += Math.abs(t);
                                }
                                double bound = (k + 1) * 0x1p-24 * mag + 1e-30;
                                assertTrue(Math.abs(out[i * m + j] - want) <= bound, (sixByTwo ? "6x2 " : "4x4 ") + dt + " n=" + n + " m=" + m + " k=" + k + " acc=" + acc
                                        + " row " + i + " col " + j + ": " + out[i * m + j] + " vs " + want + " (bound " + bound + ")");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * From 4 rows up, a row's result does not depend on the batch around it nor on the tile: every kernel sums a
     * row's k products in the same order, so the first rows of n = 4..20, 64, 66 give bit for bit those of 68 rows,
     * with either prompt tile (rows fall in 6-row strips, 4-row tiles or single rows depending on n), whole or in
     * parts of 6 rows (a long call's bounded packing). The path is
     * chosen per call, so no 1-3 row remainder takes the 16-bit decoding kernels, whose k order differs.
     */
    @Test
    public void rowsDoNotDependOnTheBatchShapeOrTile() {
        SplittableRandom r = new SplittableRandom(12);
        int m = 70, k = 333;
        float[] x = new float[68 * k], w = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        java.util.List<Integer> ns = new java.util.ArrayList<>();
        for (int n = 4; n <= 20; n++) ns.add(n);
        ns.add(64);
        ns.add(66);
        try (Parallel par = new Parallel(2)) {
            for (DType dt : DTYPES) {
                WeightMatrix wm = WeightMatrix.of(Tensor.ofFloats("w", dt, new long[] {m, k}, w));
                float[] all = new float[68 * m];
                MatMul.apply(par, x, 0, 68, wm, all, 0, m, false, true, 64 << 20);
                for (boolean sixByTwo : new boolean[] {true, false}) {
                    for (int n : ns) {
                        // whole, and in parts of 6 rows (k * 4 * 6 bytes of x at a time; the last part takes up to 9)
                        for (int packBytes : new int[] {64 << 20, 6 * k * Float.BYTES}) {
                            float[] a = new float[n * m];
                            java.util.Arrays.fill(a, Float.NaN);
                            MatMul.apply(par, x, 0, n, wm, a, 0, m, false, sixByTwo, packBytes);
                            for (int i = 0; i < a.length; i++)
                                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(all[i]),
                                        dt + (sixByTwo ? " 6x2" : " 4x4") + " n=" + n + " packBytes " + packBytes + " row " + i / m + " col " + i % m);
                        }
                    }
                }
            }
        }
    }

    /** Every finite fp16 bit pattern and a spread of bf16 ones (subnormals, extremes, -0) widen exactly on both paths. */
    @Test
    public void sixteenBitWideningIsExact() {
        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
            java.util.List<Short> finite = new java.util.ArrayList<>();
            for (int b = 0; b < 65536; b++) {
                short h = (short) b;
                float f = dt == DType.F16 ? DType.f16ToFloat(h) : DType.bf16ToFloat(h);
                if (Float.isFinite(f) && (dt == DType.F16 || b % 7 == 0 || (b & 0x7f80) == 0)) finite.add(h);
            }
            int k = 64, m = (finite.size() + k - 1) / k;
            float[] w = new float[m * k];
            for (int i = 0; i < w.length; i++) {
                short h = finite.get(i % finite.size());
                w[i] = dt == DType.F16 ? DType.f16ToFloat(h) : DType.bf16ToFloat(h);
            }
            WeightMatrix wm = WeightMatrix.of(Tensor.ofFloats("w", dt, new long[] {m, k}, w));
            float[] row = new float[k];
            for (int j = 0; j < m; j++) {
                wm.widenRow(j, row, 0);
                for (int p = 0; p < k; p++) assertEquals(Float.floatToRawIntBits(row[p]), Float.floatToRawIntBits(w[j * k + p]), dt + " widenRow " + j + "," + p);
            }
            // one-hot rows of x pick column p of W: exact products, so each output is W[j][p] itself
            try (Parallel par = new Parallel(2)) {
                for (int n : new int[] {1, 8}) {
                    for (int p0 = 0; p0 < k; p0 += n) {
                        float[] x = new float[n * k];
                        for (int i = 0; i < n; i++) x[i * k + p0 + i] = 1f;
                        float[] out = new float[n * m];
                        MatMul.apply(par, x, 0, n, wm, out, 0, m, false);
                        for (int i = 0; i < n; i++)
                            for (int j = 0; j < m; j++) {
                                float want = w[j * k + p0 + i];
                                assertTrue(out[i * m + j] == want, dt + " n=" + n + " W[" + j + "][" + (p0 + i) + "] = " + want + ", got " + out[i * m + j]);
                            }
                    }
                }
            }
        }
    }
}
