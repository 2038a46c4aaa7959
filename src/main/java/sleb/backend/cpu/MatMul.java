package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * out[i][j] (+)= sum_k x[i][k] * W[j][k]: activations times a transposed weight matrix (nn.Linear).
 * Work is cut into (row chunk of x) x (block of W rows) tasks. Inside a task a 4x4 register tile
 * (4 rows of x against 4 rows of W, 16 vector accumulators) is swept along k, so each vector load
 * feeds two FMAs; 16-bit weights are widened four rows at a time into a per-thread tile.
 */
public final class MatMul {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int X_CHUNK = 64;   // rows of x per task: 64 x K floats stay in L2
    private static final int W_BLOCK = 64;   // rows of W per task
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[0]);

    private MatMul() {}

    public static void apply(Parallel par, float[] x, int xOff, int n, WeightMatrix w, float[] out, int outOff, int outStride, boolean accumulate) {
        int k = w.cols, m = w.rows;
        int xChunks = (n + X_CHUNK - 1) / X_CHUNK;
        int wBlocks = (m + W_BLOCK - 1) / W_BLOCK;
        par.forEach(xChunks * wBlocks, task -> {
            int xc = task / wBlocks, wb = task % wBlocks;
            int i0 = xc * X_CHUNK, i1 = Math.min(n, i0 + X_CHUNK);
            int j0 = wb * W_BLOCK, j1 = Math.min(m, j0 + W_BLOCK);
            block(x, xOff, i0, i1, w, j0, j1, k, out, outOff, outStride, accumulate);
        });
    }

    /** Single-threaded product of rows [i0,i1) of x with rows [j0,j1) of W. */
    static void block(float[] x, int xOff, int i0, int i1, WeightMatrix w, int j0, int j1, int k,
                      float[] out, int outOff, int outStride, boolean acc) {
        float[] wa;
        int wBase;
        for (int j = j0; j < j1; j += 4) {
            int nj = Math.min(4, j1 - j);
            if (w.f32 != null) {
                wa = w.f32;
                wBase = j * k;
            } else {
                float[] tile = TILE.get();
                if (tile.length < 4 * k) {
                    tile = new float[4 * k];
                    TILE.set(tile);
                }
                w.widenRows(j, nj, tile);
                wa = tile;
                wBase = 0;
            }
            int i = i0;
            if (nj == 4) {
                for (; i + 4 <= i1; i += 4) tile4x4(x, xOff + i * k, k, wa, wBase, out, outOff + i * outStride + j, outStride, acc);
            }
            for (; i < i1; i++) {
                for (int jj = 0; jj < nj; jj++) {
                    float d = dot(x, xOff + i * k, wa, wBase + jj * k, k);
                    int o = outOff + i * outStride + j + jj;
                    out[o] = acc ? out[o] + d : d;
                }
            }
        }
    }

    private static void tile4x4(float[] x, int xo, int k, float[] w, int wo, float[] out, int oo, int os, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int kv = k - k % L;
        for (int p = 0; p < kv; p += L) {
            FloatVector w0 = FloatVector.fromArray(S, w, wo + p);
            FloatVector w1 = FloatVector.fromArray(S, w, wo + k + p);
            FloatVector w2 = FloatVector.fromArray(S, w, wo + 2 * k + p);
            FloatVector w3 = FloatVector.fromArray(S, w, wo + 3 * k + p);
            FloatVector a = FloatVector.fromArray(S, x, xo + p);
            c00 = a.fma(w0, c00); c01 = a.fma(w1, c01); c02 = a.fma(w2, c02); c03 = a.fma(w3, c03);
            a = FloatVector.fromArray(S, x, xo + k + p);
            c10 = a.fma(w0, c10); c11 = a.fma(w1, c11); c12 = a.fma(w2, c12); c13 = a.fma(w3, c13);
            a = FloatVector.fromArray(S, x, xo + 2 * k + p);
            c20 = a.fma(w0, c20); c21 = a.fma(w1, c21); c22 = a.fma(w2, c22); c23 = a.fma(w3, c23);
            a = FloatVector.fromArray(S, x, xo + 3 * k + p);
            c30 = a.fma(w0, c30); c31 = a.fma(w1, c31); c32 = a.fma(w2, c32); c33 = a.fma(w3, c33);
        }
        // Reduce each accumulator by name: an array of vectors would force them out of registers into boxes.
        store(c00, c01, c02, c03, x, xo, k, kv, w, wo, out, oo, acc);
        store(c10, c11, c12, c13, x, xo + k, k, kv, w, wo, out, oo + os, acc);
        store(c20, c21, c22, c23, x, xo + 2 * k, k, kv, w, wo, out, oo + 2 * os, acc);
        store(c30, c31, c32, c33, x, xo + 3 * k, k, kv, w, wo, out, oo + 3 * os, acc);
    }

    private static void store(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] x, int xo, int k, int kv,
                              float[] w, int wo, float[] out, int oo, boolean acc) {
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
        for (int p = kv; p < k; p++) {
            float xv = x[xo + p];
            s0 += xv * w[wo + p];
            s1 += xv * w[wo + k + p];
            s2 += xv * w[wo + 2 * k + p];
            s3 += xv * w[wo + 3 * k + p];
        }
        if (acc) {
            out[oo] += s0; out[oo + 1] += s1; out[oo + 2] += s2; out[oo + 3] += s3;
        } else {
            out[oo] = s0; out[oo + 1] = s1; out[oo + 2] = s2; out[oo + 3] = s3;
        }
    }

    /** Vectorised dot product of a[ao..ao+k) and b[bo..bo+k), fp32 lanes. */
    public static float dot(float[] a, int ao, float[] b, int bo, int k) {
        if (k < L) { // short heads (head_dim 8): a reduction across lanes would cost more than the loop
            float r = 0;
            for (int p = 0; p < k; p++) r += a[ao + p] * b[bo + p];
            return r;
        }
        FloatVector s = FloatVector.zero(S);
        int kv = k - k % L;
        for (int p = 0; p < kv; p += L) s = FloatVector.fromArray(S, a, ao + p).fma(FloatVector.fromArray(S, b, bo + p), s);
        float r = s.reduceLanes(VectorOperators.ADD);
        for (int p = kv; p < k; p++) r += a[ao + p] * b[bo + p];
        return r;
    }
}
