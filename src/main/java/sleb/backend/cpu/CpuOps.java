package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import sleb.model.RopeStyle;
import sleb.util.Parallel;

/** Row-wise operations of the LLaMA and OPT forwards on the CPU, fp32 storage with fp32 or wider sums. */
final class CpuOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private CpuOps() {}

    /** out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w for each of n rows of length dim. */
    static void rmsnorm(Parallel par, float[] x, float[] w, float eps, float[] out, int n, int dim) {
        par.forEach((n + 15) / 16, c -> {
            for (int r = c * 16, end = Math.min(n, r + 16); r < end; r++) {
                int o = r * dim;
                double ss = 0;
                for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
                float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
                for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * inv * w[i];
            }
        });
    }

    /**
     * LayerNorm (torch.nn.LayerNorm over the last dim): out[r] = (x[r] - mean) / sqrt(var + eps) * w + b for each of
     * n rows of length dim, with the biased variance; mean and variance summed in double. out may be x (in place).
     */
    static void layerNorm(Parallel par, float[] x, float[] w, float[] b, float eps, float[] out, int n, int dim) {
        par.forEach((n + 15) / 16, c -> {
            for (int r = c * 16, end = Math.min(n, r + 16); r < end; r++) {
                int o = r * dim;
                double sum = 0;
                for (int i = 0; i < dim; i++) sum += x[o + i];
                double mean = sum / dim, ss = 0;
                for (int i = 0; i < dim; i++) {
                    double d = x[o + i] - mean;
                    ss += d * d;
                }
                double inv = 1.0 / Math.sqrt(ss / dim + eps);
                for (int i = 0; i < dim; i++) out[o + i] = (float) ((x[o + i] - mean) * inv) * w[i] + b[i];
            }
        });
    }

    /** ReLU over rows of length width, in place. */
    static void relu(Parallel par, float[] v, int rows, int width) {
        par.forEach((rows + 15) / 16, c -> {
            for (int i = c * 16 * width, end = Math.min(rows, c * 16 + 16) * width; i < end; i++) if (v[i] < 0f) v[i] = 0f; // NaN stays NaN, as torch.relu
        });
    }

    /** OPT's learned positions: row (s, t) of x [batch][n][dim] += table[row0 + t] (row0 = first position + 2). */
    static void addPositions(float[] x, int batch, int n, int dim, float[] table, int row0) {
        for (int s = 0; s < batch; s++)
            for (int t = 0; t < n; t++) {
                int o = (s * n + t) * dim, p = (row0 + t) * dim;
                for (int i = 0; i < dim; i++) x[o + i] += table[p + i];
            }
    }

    /** Rotates every head of n rows in place; row r is at position pos0 + r % rowsPerSeq. */
    static void rope(float[] v, int n, int heads, int headDim, int rowsPerSeq, int pos0, float[] cos, float[] sin, RopeStyle style) {
        int half = headDim / 2;
        int width = heads * headDim;
        for (int r = 0; r < n; r++) {
            int pos = pos0 + r % rowsPerSeq;
            int t = pos * half;
            for (int h = 0; h < heads; h++) {
                int base = r * width + h * headDim;
                for (int i = 0; i < half; i++) {
                    int a, b;
                    if (style == RopeStyle.ADJACENT) {
                        a = base + 2 * i;
                        b = a + 1;
                    } else {
                        a = base + i;
                        b = a + half;
                    }
                    float c = cos[t + i], s = sin[t + i];
                    float x0 = v[a], x1 = v[b];
                    v[a] = x0 * c - x1 * s;
                    v[b] = x0 * s + x1 * c;
                }
            }
        }
    }

    /** SwiGLU over rows of length hid, in place: gate[i] = silu(gate[i]) * up[i] (silu(g) = g / (1 + e^-g)). */
    static void swiglu(Parallel par, float[] gate, float[] up, int rows, int hid) {
        par.forEach((rows + 15) / 16, c -> {
            int r0 = c * 16, r1 = Math.min(rows, r0 + 16);
            VectorMath.siluMul(gate, up, r0 * hid, (r1 - r0) * hid);
        });
    }

    static void addBias(float[] v, int n, float[] bias) {
        int w = bias.length;
        for (int r = 0; r < n; r++) for (int i = 0; i < w; i++) v[r * w + i] += bias[i];
    }

    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    /** Writes keys [batch][n][kvHeads*hd] transposed per head into kT[batch][kvHeads][hd][cap] at positions pos0..pos0+n-1. */
    static void transposeKeys(Parallel par, float[] k, int batch, int n, int kvHeads, int hd, float[] kT, int cap, int pos0) {
        int kw = kvHeads * hd;
        par.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            int base = task * hd * cap + pos0;
            for (int t = 0; t < n; t++) {
                int src = (b * n + t) * kw + kh * hd;
                for (int i = 0; i < hd; i++) kT[base + i * cap + t] = k[src + i];
            }
        });
    }

    /**
     * Causal attention with GQA. q: [batch][n][heads*hd] for positions pos0..pos0+n-1; keys kT: transposed
     * per head, [batch][kvHeads][hd][kCap]; values v: [batch][vCap][kvHeads*hd]; both hold positions
     * 0..pos0+n-1. With window w > 0 a query at position p sees only keys p-w < j <= p (transformers'
     * sliding-window mask; keys before a row block's window are not touched); w = 0 is full causal attention.
     * out like q. The scores of four query rows at a time run as vector loops over key positions (one key
     * load feeds four FMAs), whatever the head size; the weighted sum of values sweeps positions with the
     * rows' probabilities broadcast against vectors of the value rows. The four rows' queries and probabilities
     * are packed side by side first, so each step's four broadcasts share one base address (attention of a
     * 512-token prompt at head_dim 64: 7.4-8.9 ms per layer on 2 threads packed, 8.1-9.7 not, the same bits).
     */
    static void attention(Parallel par, float[] q, float[] kT, int kCap, float[] v, float[] out, int batch, int n, int pos0, int vCap,
                          int heads, int kvHeads, int hd, int window) {
        int group = heads / kvHeads;
        int qw = heads * hd, kw = kvHeads * hd;
        int ctx = pos0 + n;
        float scale = (float) (1.0 / Math.sqrt(hd));
        // one task per (sequence, head, block of 16 query rows): causal rows differ in cost, the pool balances them
        int rowBlocks = (n + 15) / 16;
        par.forEach(batch * heads * rowBlocks, task -> {
            int rb = task % rowBlocks, bh = task / rowBlocks;
            int b = bh / heads, h = bh % heads, kvh = h / group;
            int base = (b * kvHeads + kvh) * hd * kCap;
            int need = 8 * ctx + 4 * hd;
            float[] s = SCORES.get();
            if (s.length < need) {
                s = new float[need];
                SCORES.set(s);
            }
            int vBase = b * vCap * kw + kvh * hd;
            for (int t = rb * 16, tEnd = Math.min(n, t + 16); t < tEnd; t += 4) {
                int nr = Math.min(4, tEnd - t);
                int qs = 4 * ctx; // scaled query rows live after the four score rows
                int o0 = (b * n + t) * qw + h * hd;
                int from = firstKey(pos0 + t, window); // the first key any of the rows sees: row 0's
                if (nr == 1) { // decoding: one row, no duplicated work
                    for (int i = 0; i < hd; i++) s[qs + i] = q[o0 + i] * scale;
                    int len = pos0 + t + 1;
                    scores1(s, qs, hd, kT, base, kCap, from, len);
                    float sum = softmaxRow(s, 0, from, from, len, len);
                    weighted1(s, from, len, v, vBase, kw, hd, out, o0, 1f / sum);
                    continue;
                }
                int len = pos0 + t + nr; // keys the last of the rows sees
                for (int r = 0; r < 4; r++) { // query rows packed side by side: qs + 4i + r
                    int qo = o0 + Math.min(r, nr - 1) * qw;
                    for (int i = 0; i < hd; i++) s[qs + 4 * i + r] = q[qo + i] * scale;
                }
                scores4(s, qs, hd, kT, base, kCap, ctx, from, len);
                int p1 = pos0 + t + Math.min(1, nr - 1), p2 = pos0 + t + Math.min(2, nr - 1), p3 = pos0 + t + nr - 1;
                float sum0 = softmaxRow(s, 0, from, from, pos0 + t + 1, len);
                float sum1 = softmaxRow(s, ctx, from, firstKey(p1, window), p1 + 1, len);
                float sum2 = softmaxRow(s, 2 * ctx, from, firstKey(p2, window), p2 + 1, len);
                float sum3 = softmaxRow(s, 3 * ctx, from, firstKey(p3, window), p3 + 1, len);
                int pp = 4 * ctx + 4 * hd; // probabilities packed side by side: pp + 4(j - from) + r
                for (int r = 0; r < 4; r++)
                    for (int j = from, src = r * ctx + from, dst = pp + r; j < len; j++, src++, dst += 4) s[dst] = s[src];
                weighted4(s, pp, from, len, v, vBase, kw, hd, out, o0, qw, nr, 1f / sum0, 1f / sum1, 1f / sum2, 1f / sum3);
            }
        });
    }

    /** The first key position a query at position p sees: 0, or p - window + 1 with a sliding window. */
    static int firstKey(int p, int window) { return window > 0 ? Math.max(0, p - window + 1) : 0; }

    /** s[j] = qs . kT[:, j] for key positions from <= j < len, four vectors of positions at a time. */
    private static void scores1(float[] s, int qs, int hd, float[] kT, int base, int kCap, int from, int len) {
        int l = S.length(), j = from;
        for (; j + 4 * l <= len; j += 4 * l) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0, ko = base + j; i < hd; i++, ko += kCap) {
                FloatVector qv = FloatVector.broadcast(S, s[qs + i]);
                a0 = qv.fma(FloatVector.fromArray(S, kT, ko), a0);
                a1 = qv.fma(FloatVector.fromArray(S, kT, ko + l), a1);
                a2 = qv.fma(FloatVector.fromArray(S, kT, ko + 2 * l), a2);
                a3 = qv.fma(FloatVector.fromArray(S, kT, ko + 3 * l), a3);
            }
            a0.intoArray(s, j);
            a1.intoArray(s, j + l);
            a2.intoArray(s, j + 2 * l);
            a3.intoArray(s, j + 3 * l);
        }
        for (; j + l <= len; j += l) {
            FloatVector a0 = FloatVector.zero(S);
            for (int i = 0, ko = base + j; i < hd; i++, ko += kCap) a0 = FloatVector.broadcast(S, s[qs + i]).fma(FloatVector.fromArray(S, kT, ko), a0);
            a0.intoArray(s, j);
        }
        for (; j < len; j++) {
            float a = 0;
            for (int i = 0, ko = base + j; i < hd; i++, ko += kCap) a += s[qs + i] * kT[ko];
            s[j] = a;
        }
    }

    /** out[o0 + c] = inv * sum_{from <= j < len} s[j] * v[vBase + j*kw + c]. */
    private static void weighted1(float[] s, int from, int len, float[] v, int vBase, int kw, int hd, float[] out, int o0, float inv) {
        int l = S.length(), c = 0;
        for (; c + l <= hd; c += l) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0;
            int j = from, vo = vBase + c + from * kw;
            for (; j + 1 < len; j += 2, vo += 2 * kw) {
                a0 = FloatVector.broadcast(S, s[j]).fma(FloatVector.fromArray(S, v, vo), a0);
                a1 = FloatVector.broadcast(S, s[j + 1]).fma(FloatVector.fromArray(S, v, vo + kw), a1);
            }
            if (j < len) a0 = FloatVector.broadcast(S, s[j]).fma(FloatVector.fromArray(S, v, vo), a0);
            a0.add(a1).mul(inv).intoArray(out, o0 + c);
        }
        for (; c < hd; c++) {
            float a = 0;
            for (int j = from, vo = vBase + c + from * kw; j < len; j++, vo += kw) a += s[j] * v[vo];
            out[o0 + c] = a * inv;
        }
    }

    /**
     * s[r*ctx + j] = q_r . kT[:, j] for rows r of 0..3, packed side by side (q_r[i] at s[qs + 4i + r], so the four
     * broadcasts of a step share one base), and key positions from <= j < len (kT rows kCap apart).
     */
    private static void scores4(float[] s, int qs, int hd, float[] kT, int base, int kCap, int ctx, int from, int len) {
        int l = S.length(), lv = len - (len - from) % l;
        int q1 = qs + 1, q2 = qs + 2, q3 = qs + 3;
        int j0 = from;
        for (; j0 + 2 * l <= lv; j0 += 2 * l) { // two vectors of positions: each broadcast feeds two FMAs
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int i = 0, ko = base + j0; i < 4 * hd; i += 4, ko += kCap) {
                FloatVector kv = FloatVector.fromArray(S, kT, ko);
                FloatVector kw = FloatVector.fromArray(S, kT, ko + l);
                FloatVector qv = FloatVector.broadcast(S, s[qs + i]);
                a0 = qv.fma(kv, a0);
                b0 = qv.fma(kw, b0);
                qv = FloatVector.broadcast(S, s[q1 + i]);
                a1 = qv.fma(kv, a1);
                b1 = qv.fma(kw, b1);
                qv = FloatVector.broadcast(S, s[q2 + i]);
                a2 = qv.fma(kv, a2);
                b2 = qv.fma(kw, b2);
                qv = FloatVector.broadcast(S, s[q3 + i]);
                a3 = qv.fma(kv, a3);
                b3 = qv.fma(kw, b3);
            }
            a0.intoArray(s, j0);
            b0.intoArray(s, j0 + l);
            a1.intoArray(s, ctx + j0);
            b1.intoArray(s, ctx + j0 + l);
            a2.intoArray(s, 2 * ctx + j0);
            b2.intoArray(s, 2 * ctx + j0 + l);
            a3.intoArray(s, 3 * ctx + j0);
            b3.intoArray(s, 3 * ctx + j0 + l);
        }
        for (int j = j0; j < lv; j += l) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0, ko = base + j; i < 4 * hd; i += 4, ko += kCap) {
                FloatVector kv = FloatVector.fromArray(S, kT, ko);
                a0 = FloatVector.broadcast(S, s[qs + i]).fma(kv, a0);
                a1 = FloatVector.broadcast(S, s[q1 + i]).fma(kv, a1);
                a2 = FloatVector.broadcast(S, s[q2 + i]).fma(kv, a2);
                a3 = FloatVector.broadcast(S, s[q3 + i]).fma(kv, a3);
            }
            a0.intoArray(s, j);
            a1.intoArray(s, ctx + j);
            a2.intoArray(s, 2 * ctx + j);
            a3.intoArray(s, 3 * ctx + j);
        }
        for (int j = lv; j < len; j++) {
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (int i = 0, ko = base + j; i < 4 * hd; i += 4, ko += kCap) {
                float kv = kT[ko];
                a0 += s[qs + i] * kv;
                a1 += s[q1 + i] * kv;
                a2 += s[q2 + i] * kv;
                a3 += s[q3 + i] * kv;
            }
            s[j] = a0;
            s[ctx + j] = a1;
            s[2 * ctx + j] = a2;
            s[3 * ctx + j] = a3;
        }
    }

    /**
     * exp(s - max) over the visible positions [start, valid) of a row, zero over [from, start) and [valid, len);
     * returns the sum.
     */
    private static float softmaxRow(float[] s, int o, int from, int start, int valid, int len) {
        float max = VectorMath.max(s, o + start, valid - start);
        for (int j = from; j < start; j++) s[o + j] = 0f;
        double sum = VectorMath.expShifted(s, o + start, valid - start, max);
        for (int j = valid; j < len; j++) s[o + j] = 0f;
        return (float) sum;
    }

    /**
     * out row r (r < nr) = inv[r] * sum_{from <= j < len} p_r[j] * v[vBase + j*kw .. + hd), the probabilities packed
     * side by side (p_r[j] at s[pp + 4(j - from) + r]).
     */
    private static void weighted4(float[] s, int pp, int from, int len, float[] v, int vBase, int kw, int hd, float[] out, int o0, int qw, int nr,
                                  float inv0, float inv1, float inv2, float inv3) {
        int l = S.length();
        int c = 0;
        for (; c + 2 * l <= hd; c += 2 * l) { // two vectors of the head: each broadcast feeds two FMAs
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int j = pp, vo = vBase + c + from * kw, je = pp + 4 * (len - from); j < je; j += 4, vo += kw) {
                FloatVector vv = FloatVector.fromArray(S, v, vo);
                FloatVector vw = FloatVector.fromArray(S, v, vo + l);
                FloatVector p = FloatVector.broadcast(S, s[j]);
                a0 = p.fma(vv, a0);
                b0 = p.fma(vw, b0);
                p = FloatVector.broadcast(S, s[j + 1]);
                a1 = p.fma(vv, a1);
                b1 = p.fma(vw, b1);
                p = FloatVector.broadcast(S, s[j + 2]);
                a2 = p.fma(vv, a2);
                b2 = p.fma(vw, b2);
                p = FloatVector.broadcast(S, s[j + 3]);
                a3 = p.fma(vv, a3);
                b3 = p.fma(vw, b3);
            }
            a0.mul(inv0).intoArray(out, o0 + c);
            b0.mul(inv0).intoArray(out, o0 + c + l);
            if (nr > 1) {
                a1.mul(inv1).intoArray(out, o0 + qw + c);
                b1.mul(inv1).intoArray(out, o0 + qw + c + l);
            }
            if (nr > 2) {
                a2.mul(inv2).intoArray(out, o0 + 2 * qw + c);
                b2.mul(inv2).intoArray(out, o0 + 2 * qw + c + l);
            }
            if (nr > 3) {
                a3.mul(inv3).intoArray(out, o0 + 3 * qw + c);
                b3.mul(inv3).intoArray(out, o0 + 3 * qw + c + l);
            }
        }
        for (; c + l <= hd; c += l) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int j = pp, vo = vBase + c + from * kw, je = pp + 4 * (len - from); j < je; j += 4, vo += kw) {
                FloatVector vv = FloatVector.fromArray(S, v, vo);
                a0 = FloatVector.broadcast(S, s[j]).fma(vv, a0);
                a1 = FloatVector.broadcast(S, s[j + 1]).fma(vv, a1);
                a2 = FloatVector.broadcast(S, s[j + 2]).fma(vv, a2);
                a3 = FloatVector.broadcast(S, s[j + 3]).fma(vv, a3);
            }
            a0.mul(inv0).intoArray(out, o0 + c);
            if (nr > 1) a1.mul(inv1).intoArray(out, o0 + qw + c);
            if (nr > 2) a2.mul(inv2).intoArray(out, o0 + 2 * qw + c);
            if (nr > 3) a3.mul(inv3).intoArray(out, o0 + 3 * qw + c);
        }
        for (; c < hd; c++) { // head sizes that are not a multiple of the vector length
            for (int r = 0; r < nr; r++) {
                float a = 0;
                for (int j = pp + r, vo = vBase + c + from * kw, je = pp + 4 * (len - from); j < je; j += 4, vo += kw) a += s[j] * v[vo];
                out[o0 + r * qw + c] = a * (r == 0 ? inv0 : r == 1 ? inv1 : r == 2 ? inv2 : inv3);
            }
        }
    }
}
