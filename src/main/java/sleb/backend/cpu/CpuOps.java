package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import sleb.model.RopeStyle;

/** Row-wise operations of the LLaMA forward on the CPU, fp32 storage with fp32 or wider sums. */
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

    /** gate[i] = silu(gate[i]) * up[i]. */
    static void swiglu(float[] gate, float[] up, int len) {
        for (int i = 0; i < len; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    static void addBias(float[] v, int n, float[] bias) {
        int w = bias.length;
        for (int r = 0; r < n; r++) for (int i = 0; i < w; i++) v[r * w + i] += bias[i];
    }

    static void add(float[] dst, float[] src, int len) {
        int lv = len - len % S.length();
        for (int i = 0; i < lv; i += S.length())
            FloatVector.fromArray(S, dst, i).add(FloatVector.fromArray(S, src, i)).intoArray(dst, i);
        for (int i = lv; i < len; i++) dst[i] += src[i];
    }

    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Causal attention with GQA. q: [batch][n][heads*hd] for positions pos0..pos0+n-1; keys and values:
     * [batch][cap][kvHeads*hd] holding positions 0..pos0+n-1. out like q. kT and vT are work buffers of
     * batch*kvHeads*hd*(pos0+n) floats: keys and values transposed per head so that scores and the
     * weighted sum of values run as vector loops over key positions, whatever the head size.
     */
    static void attention(Parallel par, float[] q, float[] k, float[] v, float[] out, int batch, int n, int pos0, int cap,
                          int heads, int kvHeads, int hd, float[] kT, float[] vT) {
        int group = heads / kvHeads;
        int qw = heads * hd, kw = kvHeads * hd;
        int ctx = pos0 + n;
        float scale = (float) (1.0 / Math.sqrt(hd));
        par.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            int base = task * hd * ctx;
            for (int j = 0; j < ctx; j++) {
                int src = (b * cap + j) * kw + kh * hd;
                for (int i = 0; i < hd; i++) {
                    kT[base + i * ctx + j] = k[src + i];
                    vT[base + i * ctx + j] = v[src + i];
                }
            }
        });
        // one task per (sequence, head, block of 16 query rows): causal rows differ in cost, the pool balances them
        int rowBlocks = (n + 15) / 16;
        par.forEach(batch * heads * rowBlocks, task -> {
            int rb = task % rowBlocks, bh = task / rowBlocks;
            int b = bh / heads, h = bh % heads, kvh = h / group;
            int base = (b * kvHeads + kvh) * hd * ctx;
            float[] s = SCORES.get();
            if (s.length < ctx) {
                s = new float[ctx];
                SCORES.set(s);
            }
            for (int t = rb * 16, tEnd = Math.min(n, t + 16); t < tEnd; t++) {
                int qo = (b * n + t) * qw + h * hd;
                int len = pos0 + t + 1;
                int lv = len - len % S.length();
                java.util.Arrays.fill(s, 0, len, 0f);
                for (int i = 0; i < hd; i++) {
                    float qi = q[qo + i] * scale;
                    FloatVector qv = FloatVector.broadcast(S, qi);
                    int ko = base + i * ctx;
                    for (int j = 0; j < lv; j += S.length())
                        qv.fma(FloatVector.fromArray(S, kT, ko + j), FloatVector.fromArray(S, s, j)).intoArray(s, j);
                    for (int j = lv; j < len; j++) s[j] += qi * kT[ko + j];
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) max = Math.max(max, s[j]);
                FloatVector mv = FloatVector.broadcast(S, max);
                FloatVector sumv = FloatVector.zero(S);
                for (int j = 0; j < lv; j += S.length()) {
                    FloatVector e = FloatVector.fromArray(S, s, j).sub(mv).lanewise(VectorOperators.EXP);
                    e.intoArray(s, j);
                    sumv = sumv.add(e);
                }
                double sum = sumv.reduceLanes(VectorOperators.ADD);
                for (int j = lv; j < len; j++) {
                    s[j] = (float) Math.exp(s[j] - max);
                    sum += s[j];
                }
                float inv = (float) (1.0 / sum);
                for (int i = 0; i < hd; i++) out[qo + i] = MatMul.dot(s, 0, vT, base + i * ctx, len) * inv;
            }
        });
    }
}
