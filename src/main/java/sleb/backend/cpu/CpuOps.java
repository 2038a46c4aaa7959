package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
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

    /**
     * Causal attention with GQA. q: [batch][n][heads*hd] for positions pos0..pos0+n-1; keys and values:
     * [batch][cap][kvHeads*hd] holding positions 0..pos0+n-1. out like q.
     */
    static void attention(Parallel par, float[] q, float[] k, float[] v, float[] out, int batch, int n, int pos0, int cap,
                          int heads, int kvHeads, int hd) {
        int group = heads / kvHeads;
        int qw = heads * hd, kw = kvHeads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        // one task per (sequence, head, block of 16 query rows): causal rows differ in cost, the pool balances them
        int rowBlocks = (n + 15) / 16;
        par.forEach(batch * heads * rowBlocks, task -> {
            int rb = task % rowBlocks, bh = task / rowBlocks;
            int b = bh / heads, h = bh % heads, kvh = h / group;
            float[] scores = new float[pos0 + n];
            for (int t = rb * 16, tEnd = Math.min(n, t + 16); t < tEnd; t++) {
                int qo = (b * n + t) * qw + h * hd;
                int len = pos0 + t + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    float s = MatMul.dot(q, qo, k, (b * cap + j) * kw + kvh * hd, hd) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                double sum = 0;
                for (int j = 0; j < len; j++) {
                    float e = (float) Math.exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                int oo = (b * n + t) * qw + h * hd;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int j = 0; j < len; j++) {
                    float p = scores[j] * inv;
                    int vo = (b * cap + j) * kw + kvh * hd;
                    for (int i = 0; i < hd; i++) out[oo + i] += p * v[vo + i];
                }
            }
        });
    }
}
