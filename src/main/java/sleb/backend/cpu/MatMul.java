package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import sleb.util.Parallel;

/**
 * out[i][j] (+)= sum_k x[i][k] * W[j][k]: activations times a transposed weight matrix (nn.Linear).
 * W is packed in panels of NR = 4 vectors of output columns ({@link WeightMatrix}). Prompts and batches
 * run a register tile of out over k, per k step loading weight vectors (contiguous memory), broadcasting
 * x values and issuing one FMA per tile vector, no reductions across lanes:
 * <ul>
 * <li>6 rows x 2 vectors on each half of a panel where the vector register file holds 16 (species narrower than
 * 512 bits: AVX2): 12 accumulators, 2 weight vectors and a broadcast take 15 registers. The 6 rows of x are
 * packed side by side first (x[p][r]), so the 6 broadcasts of a k step share one base address.
 * <li>4 rows x 4 vectors on 512-bit species (AVX-512, 32 registers).
 * </ul>
 * Decoding (fewer than 4 rows) uses 1 x NR kernels that stream each weight once. Work is cut into
 * (chunk of x rows) x (group of panels) tasks over all threads; 16-bit panels are widened one at a
 * time into a per-thread tile, reused by every row of the chunk. Every kernel sums each output's k
 * products in the same order (ascending k, one FMA each, slices added in order), so a row's result is the
 * same bits whichever kernel computed it.
 */
public final class MatMul {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int NR = WeightMatrix.NR;
    private static final int X_CHUNK = 60;   // fewest rows of x per task (whole 6-row and 4-row tiles) where x is long
    // Most bytes of x per task. A task sweeps its rows of x once per panel, and a 16-bit panel is widened once per task:
    // 512 x 768 as one chunk widens each panel once instead of 9 times in 60-row chunks (bf16 prompt 512: 360-459
    // tokens/s in one chunk against 325-385 in 60-row ones, alternating runs, AVX2, 2026-12-01). 2 MiB keeps x in L2
    // or L3 as it is swept.
    private static final int X_BYTES = 2 << 20;
    // Most bytes of x packed at once (the packed copy stays allocated per calling thread); larger calls run in parts.
    private static final int PACK_BYTES = 64 << 20;
    // Longest k slice. Slices are balanced (k = 768 runs whole, not as 512 + 256): a short slice costs a tile's loads
    // and stores for few FMAs. Fixed 512-slices ran k = 768 at 31-33 GFLOP/s single-threaded against 37-40 whole, and
    // k = 2048 at 30-32 against 33-38 (AVX2); k of 7B shapes (4096, 11008: 2 and 6 slices) is not measured yet.
    private static final int KC_MAX = 2048;
    private static final float F16_SCALE = WeightMatrix.F16_SCALE;
    private static final int DIRECT_ROWS = 4; // fewer rows read 16-bit panels directly; more share one widened tile
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> XPACK = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * The prompt tile. Species narrower than 512 bits take 6 x 2: on x86 that is AVX2, with 16 vector registers
     * (AArch64's 32 registers at 128 bits take it too, unmeasured). With 16 vector registers the 4 x 4 tile's 21
     * live vectors spill 7 accumulators to the stack (a load and a store per FMA in the JIT's code); 6 x 2 with
     * packed x fits and ran the 2048 x 768 x 512 fp32
     * matmul at 40-47 against 31-35 GFLOP/s single-threaded (AVX2, 2026-12-01). 512-bit species keep the 4 x 4
     * tile, measured on AVX-512 machines before; 6 x 2 is not measured there.
     */
    static final boolean SIX_BY_TWO = L < 16;

    private MatMul() {}

    /**
     * out[outOff + i*outStride + j] (+)= sum_p x[xOff + i*k + p] * W[j][p] for rows i &lt; n of x and all rows j of
     * W (k = w.cols); accumulate adds onto out, else overwrites it. fp32 products summed in fp32, over all threads of par.
     */
    public static void apply(Parallel par, float[] x, int xOff, int n, WeightMatrix w, float[] out, int outOff, int outStride, boolean accumulate) {
        apply(par, x, xOff, n, w, out, outOff, outStride, accumulate, SIX_BY_TWO, PACK_BYTES);
    }

    /**
     * {@link #apply} with the prompt tile chosen by the caller (tests run both on any machine). With the 6 x 2
     * tile, calls of more than packBytes of x run as consecutive parts of whole 6-row strips (the last of at least
     * 4 rows, so no part takes the decoding path), which bounds the packed copy of x; a row's result does not change.
     */
    static void apply(Parallel par, float[] x, int xOff, int n, WeightMatrix w, float[] out, int outOff, int outStride, boolean accumulate,
            boolean sixByTwo, int packBytes) {
        int part = sixByTwo ? Math.max(6, packBytes / Float.BYTES / w.cols / 6 * 6) : n;
        for (int r0 = 0, rows; r0 < n; r0 += rows) {
            rows = n - r0 <= part + 3 ? n - r0 : part;
            applyRows(par, x, xOff + r0 * w.cols, rows, w, out, outOff + r0 * outStride, outStride, accumulate, sixByTwo);
        }
    }

    private static void applyRows(Parallel par, float[] x, int xOff, int n, WeightMatrix w, float[] out, int outOff, int outStride,
            boolean accumulate, boolean sixByTwo) {
        int k = w.cols, panels = w.panels;
        int want = par.threads() * 8;
        int chunkMax = Math.max(X_CHUNK, X_BYTES / Float.BYTES / k);
        int tileRows = sixByTwo ? 6 : 4;
        // enough chunks for every thread to have work even where W has few panels
        int xChunks = Math.max((n + chunkMax - 1) / chunkMax, Math.min((n + tileRows - 1) / tileRows, (want + panels - 1) / panels));
        int chunk = ((n + xChunks - 1) / xChunks + tileRows - 1) / tileRows * tileRows; // balanced, whole tiles of rows
        int perTask = Math.max(1, (int) Math.min(panels, (long) panels * xChunks / want));
        int groups = (panels + perTask - 1) / perTask;
        // the path is chosen by the whole call's row count, so a row's result never depends on the batch shape
        boolean direct = w.f32 == null && n < DIRECT_ROWS;
        float[] xp = !direct && sixByTwo ? pack6(par, x, xOff, n, k) : null;
        par.forEach(xChunks * groups, task -> {
            int xc = task / groups, g = task % groups;
            int i0 = xc * chunk, i1 = Math.min(n, i0 + chunk);
            if (i0 >= n) return; // rounding chunks up to whole tiles can leave the last one empty
            int q0 = g * perTask, q1 = Math.min(panels, q0 + perTask);
            for (int q = q0; q < q1; q++) panel(x, xOff, xp, i0, i1, w, q, k, out, outOff, outStride, accumulate, direct);
        });
    }

    private static final ThreadLocal<float[]> PARTIAL = ThreadLocal.withInitial(() -> new float[X_CHUNK * NR]);

    /**
     * The whole 6-row strips of the n rows of x, packed side by side in a buffer of the calling thread, once per
     * call (every task reads it): strip s holds x[6s + r][p] at 6sk + 6p + r.
     */
    private static float[] pack6(Parallel par, float[] x, int xOff, int n, int k) {
        int strips = n / 6;
        float[] xp = XPACK.get();
        if (xp.length < strips * 6 * k) {
            xp = new float[strips * 6 * k];
            XPACK.set(xp);
        }
        float[] dst = xp;
        par.forEach(strips, st -> {
            int base = st * 6 * k;
            for (int r = 0; r < 6; r++) {
                int xo = xOff + (6 * st + r) * k;
                for (int p = 0; p < k; p++) dst[base + 6 * p + r] = x[xo + p];
            }
        });
        return xp;
    }

    /**
     * Rows [i0,i1) of x times panel q of W, single-threaded; xp: rows packed by {@link #pack6} for the 6 x 2 tile,
     * or null for the 4 x 4 one; direct: read a 16-bit panel in the single-row kernels.
     */
    static void panel(float[] x, int xOff, float[] xp, int i0, int i1, WeightMatrix w, int q, int k, float[] out, int outOff, int os, boolean acc, boolean direct) {
        if (direct) {
            direct16(x, xOff, i0, i1, w, q, k, out, outOff, os, acc);
            return;
        }
        float[] wa;
        int wo;
        if (w.f32 != null) {
            wa = w.f32;
            wo = q * k * NR;
        } else {
            wa = TILE.get();
            if (wa.length < k * NR) {
                wa = new float[k * NR];
                TILE.set(wa);
            }
            w.widenPanel(q, wa);
            wo = 0;
        }
        int j = q * NR, cols = Math.min(NR, w.rows - j);
        if (cols == NR) {
            rows(x, xOff, xp, i0, i1, k, wa, wo, out, outOff + j, os, acc);
        } else { // the last, partial panel: full-width tiles into a scratch block, then the valid columns
            float[] t = PARTIAL.get();
            if (t.length < (i1 - i0) * NR) PARTIAL.set(t = new float[(i1 - i0) * NR]);
            rows(x, xOff, xp, i0, i1, k, wa, wo, t, -i0 * NR, NR, false);
            for (int i = i0; i < i1; i++) {
                int o = outOff + i * os + j, so = (i - i0) * NR;
                for (int c = 0; c < cols; c++) out[o + c] = acc ? out[o + c] + t[so + c] : t[so + c];
            }
        }
    }

    /**
     * Fewer than DIRECT_ROWS rows (decoding) against a 16-bit panel: each row streams the packed panel and
     * widens in registers, so the weights cross the memory bus once, at 2 bytes each.
     */
    private static void direct16(float[] x, int xOff, int i0, int i1, WeightMatrix w, int q, int k, float[] out, int outOff, int os, boolean acc) {
        int j = q * NR, cols = Math.min(NR, w.rows - j), wo = q * k * (NR / 2);
        boolean bf = w.dtype == sleb.model.DType.BF16;
        for (int i = i0; i < i1; i++) {
            int xo = xOff + i * k;
            if (cols == NR) {
                if (bf) kernel1Bf16(x, xo, k, w.packed, wo, out, outOff + i * os + j, acc);
                else kernel1F16(x, xo, k, w.packed, wo, out, outOff + i * os + j, acc);
            } else {
                float[] t = PARTIAL.get();
                if (bf) kernel1Bf16(x, xo, k, w.packed, wo, t, 0, false);
                else kernel1F16(x, xo, k, w.packed, wo, t, 0, false);
                int o = outOff + i * os + j;
                for (int c = 0; c < cols; c++) out[o + c] = acc ? out[o + c] + t[c] : t[c];
            }
        }
    }

    /**
     * Rows [i0,i1) against one panel, k cut into equal slices of at most KC_MAX (measured at k = 768 and 2048 only):
     * 6 x 2 tiles on both halves of the panel where xp holds packed strips, then 4 x 4 tiles, then single rows.
     */
    private static void rows(float[] x, int xOff, float[] xp, int i0, int i1, int k, float[] wa, int wo, float[] out, int oo, int os, boolean acc) {
        int slices = (k + KC_MAX - 1) / KC_MAX, kc = (k + slices - 1) / slices;
        for (int p0 = 0; p0 < k; p0 += kc) {
            int kl = Math.min(kc, k - p0);
            boolean a = acc || p0 > 0;
            int i = i0;
            if (xp != null) {
                for (; i + 6 <= i1; i += 6) {
                    int xs = i * k + 6 * p0, o = oo + i * os; // i0 starts a strip: chunks are whole strips
                    kernel6x2(xp, xs, kl, wa, wo + p0 * NR, out, o, os, a);
                    kernel6x2(xp, xs, kl, wa, wo + p0 * NR + 2 * L, out, o + 2 * L, os, a);
                }
            }
            for (; i + 4 <= i1; i += 4) kernel4(x, xOff + i * k + p0, k, kl, wa, wo + p0 * NR, out, oo + i * os, os, a);
            for (; i < i1; i++) kernel1(x, xOff + i * k + p0, kl, wa, wo + p0 * NR, out, oo + i * os, a);
        }
    }

    // The kernels keep every vector in a local by name and call nothing that takes vectors unless it is
    // tiny enough to inline: a vector that escapes (array, field, non-inlined call) is boxed, ~50x slower.
    private static void kernel4(float[] x, int xo, int xs, int k, float[] w, int wo, float[] out, int oo, int os, boolean acc) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (acc) {
            int o1 = oo + os, o2 = oo + 2 * os, o3 = oo + 3 * os;
            c00 = FloatVector.fromArray(S, out, oo); c01 = FloatVector.fromArray(S, out, oo + L);
            c02 = FloatVector.fromArray(S, out, oo + 2 * L); c03 = FloatVector.fromArray(S, out, oo + 3 * L);
            c10 = FloatVector.fromArray(S, out, o1); c11 = FloatVector.fromArray(S, out, o1 + L);
            c12 = FloatVector.fromArray(S, out, o1 + 2 * L); c13 = FloatVector.fromArray(S, out, o1 + 3 * L);
            c20 = FloatVector.fromArray(S, out, o2); c21 = FloatVector.fromArray(S, out, o2 + L);
            c22 = FloatVector.fromArray(S, out, o2 + 2 * L); c23 = FloatVector.fromArray(S, out, o2 + 3 * L);
            c30 = FloatVector.fromArray(S, out, o3); c31 = FloatVector.fromArray(S, out, o3 + L);
            c32 = FloatVector.fromArray(S, out, o3 + 2 * L); c33 = FloatVector.fromArray(S, out, o3 + 3 * L);
        } else {
            c00 = FloatVector.zero(S); c01 = c00; c02 = c00; c03 = c00;
            c10 = c00; c11 = c00; c12 = c00; c13 = c00;
            c20 = c00; c21 = c00; c22 = c00; c23 = c00;
            c30 = c00; c31 = c00; c32 = c00; c33 = c00;
        }
        int x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs;
        for (int p = 0; p < k; p++) {
            int wp = wo + p * NR;
            FloatVector w0 = FloatVector.fromArray(S, w, wp);
            FloatVector w1 = FloatVector.fromArray(S, w, wp + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wp + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, w, wp + 3 * L);
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            c00 = a.fma(w0, c00); c01 = a.fma(w1, c01); c02 = a.fma(w2, c02); c03 = a.fma(w3, c03);
            a = FloatVector.broadcast(S, x[x1 + p]);
            c10 = a.fma(w0, c10); c11 = a.fma(w1, c11); c12 = a.fma(w2, c12); c13 = a.fma(w3, c13);
            a = FloatVector.broadcast(S, x[x2 + p]);
            c20 = a.fma(w0, c20); c21 = a.fma(w1, c21); c22 = a.fma(w2, c22); c23 = a.fma(w3, c23);
            a = FloatVector.broadcast(S, x[x3 + p]);
            c30 = a.fma(w0, c30); c31 = a.fma(w1, c31); c32 = a.fma(w2, c32); c33 = a.fma(w3, c33);
        }
        int o1 = oo + os, o2 = oo + 2 * os, o3 = oo + 3 * os;
        c00.intoArray(out, oo); c01.intoArray(out, oo + L); c02.intoArray(out, oo + 2 * L); c03.intoArray(out, oo + 3 * L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L); c12.intoArray(out, o1 + 2 * L); c13.intoArray(out, o1 + 3 * L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); c22.intoArray(out, o2 + 2 * L); c23.intoArray(out, o2 + 3 * L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L); c32.intoArray(out, o3 + 2 * L); c33.intoArray(out, o3 + 3 * L);
    }

    /**
     * Six packed rows of x (xp[xo + 6p + r]) against two vectors of a panel (w[wo + p*NR], w[wo + p*NR + L]):
     * 12 accumulators, 2 weight vectors and 1 broadcast, within 16 vector registers.
     */
    private static void kernel6x2(float[] xp, int xo, int k, float[] w, int wo, float[] out, int oo, int os, boolean acc) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        int o1 = oo + os, o2 = o1 + os, o3 = o2 + os, o4 = o3 + os, o5 = o4 + os;
        if (acc) {
            c00 = FloatVector.fromArray(S, out, oo); c01 = FloatVector.fromArray(S, out, oo + L);
            c10 = FloatVector.fromArray(S, out, o1); c11 = FloatVector.fromArray(S, out, o1 + L);
            c20 = FloatVector.fromArray(S, out, o2); c21 = FloatVector.fromArray(S, out, o2 + L);
            c30 = FloatVector.fromArray(S, out, o3); c31 = FloatVector.fromArray(S, out, o3 + L);
            c40 = FloatVector.fromArray(S, out, o4); c41 = FloatVector.fromArray(S, out, o4 + L);
            c50 = FloatVector.fromArray(S, out, o5); c51 = FloatVector.fromArray(S, out, o5 + L);
        } else {
            c00 = FloatVector.zero(S); c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00;
            c30 = c00; c31 = c00; c40 = c00; c41 = c00; c50 = c00; c51 = c00;
        }
        // xq and wp as the loop's own variables, not recomputed from a counter p: medians of 102-120 GFLOP/s against
        // 87-111 recomputed, on 2 threads (2048 x 768 x 512, f32 and bf16, both forms alternating in one JVM, AVX2)
        for (int xq = xo, wp = wo, end = xo + 6 * k; xq < end; xq += 6, wp += NR) {
            FloatVector w0 = FloatVector.fromArray(S, w, wp), w1 = FloatVector.fromArray(S, w, wp + L);
            FloatVector b = FloatVector.broadcast(S, xp[xq]);
            c00 = b.fma(w0, c00); c01 = b.fma(w1, c01);
            b = FloatVector.broadcast(S, xp[xq + 1]);
            c10 = b.fma(w0, c10); c11 = b.fma(w1, c11);
            b = FloatVector.broadcast(S, xp[xq + 2]);
            c20 = b.fma(w0, c20); c21 = b.fma(w1, c21);
            b = FloatVector.broadcast(S, xp[xq + 3]);
            c30 = b.fma(w0, c30); c31 = b.fma(w1, c31);
            b = FloatVector.broadcast(S, xp[xq + 4]);
            c40 = b.fma(w0, c40); c41 = b.fma(w1, c41);
            b = FloatVector.broadcast(S, xp[xq + 5]);
            c50 = b.fma(w0, c50); c51 = b.fma(w1, c51);
        }
        c00.intoArray(out, oo); c01.intoArray(out, oo + L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L);
        c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
    }

    // The 16-bit single-row kernels run the first and second half of k as two streams into two accumulator sets
    // (added at the end), which keeps more loads in flight and halves the FMA dependency chain; each packed int
    // vector is widened and used before the next is loaded, which keeps the live vectors within 16 registers.
    // Their final stores are written out in each: a shared store helper taking the vectors measured ~10% slower
    // (bf16, 2048 x 768 from memory: 13.0-13.8 against 14.3-17.8 GB/s), the vectors being boxed.
    private static void kernel1Bf16(float[] x, int xo, int k, int[] w, int wo, float[] out, int oo, boolean acc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        int h = k / 2, second = h * (NR / 2);
        for (int p = 0; p < h; p++) {
            int wp = wo + p * (NR / 2);
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            IntVector u = IntVector.fromArray(WeightMatrix.IS, w, wp);
            c0 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c0);
            c1 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), c1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + L);
            c2 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c2);
            c3 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), c3);
            a = FloatVector.broadcast(S, x[xo + h + p]);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + second);
            d0 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), d0);
            d1 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), d1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + second + L);
            d2 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), d2);
            d3 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), d3);
        }
        if ((k & 1) != 0) {
            int p = k - 1, wp = wo + p * (NR / 2);
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            IntVector u = IntVector.fromArray(WeightMatrix.IS, w, wp);
            c0 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c0);
            c1 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), c1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + L);
            c2 = a.fma(u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c2);
            c3 = a.fma(u.and(0xffff0000).reinterpretAsFloats(), c3);
        }
        c0 = c0.add(d0); c1 = c1.add(d1); c2 = c2.add(d2); c3 = c3.add(d3);
        if (acc) {
            c0 = c0.add(FloatVector.fromArray(S, out, oo)); c1 = c1.add(FloatVector.fromArray(S, out, oo + L));
            c2 = c2.add(FloatVector.fromArray(S, out, oo + 2 * L)); c3 = c3.add(FloatVector.fromArray(S, out, oo + 3 * L));
        }
        c0.intoArray(out, oo); c1.intoArray(out, oo + L); c2.intoArray(out, oo + 2 * L); c3.intoArray(out, oo + 3 * L);
    }

    private static void kernel1F16(float[] x, int xo, int k, int[] w, int wo, float[] out, int oo, boolean acc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        int h = k / 2, second = h * (NR / 2);
        for (int p = 0; p < h; p++) {
            int wp = wo + p * (NR / 2);
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            IntVector u = IntVector.fromArray(WeightMatrix.IS, w, wp);
            c0 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), c0);
            c1 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), c1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + L);
            c2 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), c2);
            c3 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), c3);
            a = FloatVector.broadcast(S, x[xo + h + p]);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + second);
            d0 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), d0);
            d1 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), d1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + second + L);
            d2 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), d2);
            d3 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), d3);
        }
        if ((k & 1) != 0) {
            int p = k - 1, wp = wo + p * (NR / 2);
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            IntVector u = IntVector.fromArray(WeightMatrix.IS, w, wp);
            c0 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), c0);
            c1 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), c1);
            u = IntVector.fromArray(WeightMatrix.IS, w, wp + L);
            c2 = a.fma(u.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats(), c2);
            c3 = a.fma(u.lanewise(VectorOperators.LSHR, 3).and(0x0fffe000).reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().or(u.and(0x80000000)).reinterpretAsFloats(), c3);
        }
        c0 = c0.add(d0); c1 = c1.add(d1); c2 = c2.add(d2); c3 = c3.add(d3);
        if (acc) {
            c0 = c0.add(FloatVector.fromArray(S, out, oo)); c1 = c1.add(FloatVector.fromArray(S, out, oo + L));
            c2 = c2.add(FloatVector.fromArray(S, out, oo + 2 * L)); c3 = c3.add(FloatVector.fromArray(S, out, oo + 3 * L));
        }
        c0.intoArray(out, oo); c1.intoArray(out, oo + L); c2.intoArray(out, oo + 2 * L); c3.intoArray(out, oo + 3 * L);
    }

    private static void kernel1(float[] x, int xo, int k, float[] w, int wo, float[] out, int oo, boolean acc) {
        FloatVector c0, c1, c2, c3;
        if (acc) {
            c0 = FloatVector.fromArray(S, out, oo); c1 = FloatVector.fromArray(S, out, oo + L);
            c2 = FloatVector.fromArray(S, out, oo + 2 * L); c3 = FloatVector.fromArray(S, out, oo + 3 * L);
        } else {
            c0 = FloatVector.zero(S); c1 = c0; c2 = c0; c3 = c0;
        }
        for (int p = 0; p < k; p++) {
            int wp = wo + p * NR;
            FloatVector a = FloatVector.broadcast(S, x[xo + p]);
            c0 = a.fma(FloatVector.fromArray(S, w, wp), c0);
            c1 = a.fma(FloatVector.fromArray(S, w, wp + L), c1);
            c2 = a.fma(FloatVector.fromArray(S, w, wp + 2 * L), c2);
            c3 = a.fma(FloatVector.fromArray(S, w, wp + 3 * L), c3);
        }
        c0.intoArray(out, oo); c1.intoArray(out, oo + L); c2.intoArray(out, oo + 2 * L); c3.intoArray(out, oo + 3 * L);
    }
}
