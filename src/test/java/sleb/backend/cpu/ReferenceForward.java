package sleb.backend.cpu;

import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.Tensor;

/**
 * The LLaMA forward in float64, one position at a time, written as plainly as possible: the tests' yardstick.
 * Layers with a sliding window w (the config's, per original layer index) let position t attend to keys
 * j with t - w &lt; j &lt;= t, as transformers' sliding-window mask does.
 */
public final class ReferenceForward {
    private final Model m;
    private final ModelConfig c;
    /** F32: inputs of the projections stay double. Otherwise they are rounded to this type first. */
    private final DType gemmInput;
    private final boolean windows;

    public ReferenceForward(Model m) { this(m, false); }

    /**
     * @param roundGemmInputs round every projection's input to the GEMM dtype (the q_proj weights' type)
     *     first, as the CUDA backend does for 16-bit models, so the rest can stay exact (double) and the
     *     comparison tight
     */
    public ReferenceForward(Model m, boolean roundGemmInputs) { this(m, roundGemmInputs, true); }

    private ReferenceForward(Model m, boolean roundGemmInputs, boolean windows) {
        this.m = m;
        this.c = m.config();
        this.gemmInput = roundGemmInputs ? m.tensor(Model.layer(0, "self_attn.q_proj.weight")).dtype() : DType.F32;
        this.windows = windows;
    }

    /** The same forward with full causal attention in every layer, whatever the config's sliding windows. */
    public ReferenceForward ignoringSlidingWindows() { return new ReferenceForward(m, gemmInput != DType.F32, false); }

    private double w(String name, long i) { return m.tensor(name).get(i); }

    private double[] vec(Tensor t) {
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.get(i);
        return v;
    }

    private double[] linear(String name, double[] x) {
        x = roundedGemmInput(x);
        Tensor t = m.tensor(name);
        int out = (int) t.dim(0), in = (int) t.dim(1);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) s += t.get((long) o * in + i) * x[i];
            y[o] = s;
        }
        return y;
    }

    private double[] roundedGemmInput(double[] v) {
        if (gemmInput == DType.F32) return v;
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            float f = (float) v[i];
            r[i] = gemmInput == DType.BF16 ? DType.bf16ToFloat(DType.floatToBf16(f)) : DType.f16ToFloat(DType.floatToF16(f));
        }
        return r;
    }

    private double[] rmsnorm(double[] x, double[] g) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + c.normEps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * g[i];
        return y;
    }

    private void rope(double[] v, int heads, int pos) {
        double[] inv = c.ropeInvFreq();
        int hd = c.headDim, half = hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                int a = c.ropeStyle == RopeStyle.ADJACENT ? h * hd + 2 * i : h * hd + i;
                int b = c.ropeStyle == RopeStyle.ADJACENT ? a + 1 : a + half;
                double ang = pos * inv[i], x0 = v[a], x1 = v[b];
                v[a] = x0 * Math.cos(ang) - x1 * Math.sin(ang);
                v[b] = x0 * Math.sin(ang) + x1 * Math.cos(ang);
            }
        }
    }

    private void addBias(double[] v, String name) {
        if (!c.qkvBias) return;
        for (int i = 0; i < v.length; i++) v[i] += w(name, i);
    }

    /** Logits [seq][vocab] of one sequence with only the given blocks run. */
    public double[][] logits(int[] tokens, int[] blocks) {
        int n = tokens.length, d = c.dim, hd = c.headDim;
        double[][] x = new double[n][d];
        for (int t = 0; t < n; t++) for (int i = 0; i < d; i++) x[t][i] = w("model.embed_tokens.weight", (long) tokens[t] * d + i);
        for (int l : blocks) {
            double[][] k = new double[n][], v = new double[n][], q = new double[n][];
            double[] g1 = vec(m.tensor(Model.layer(l, "input_layernorm.weight")));
            for (int t = 0; t < n; t++) {
                double[] h = rmsnorm(x[t], g1);
                q[t] = linear(Model.layer(l, "self_attn.q_proj.weight"), h);
                k[t] = linear(Model.layer(l, "self_attn.k_proj.weight"), h);
                v[t] = linear(Model.layer(l, "self_attn.v_proj.weight"), h);
                addBias(q[t], Model.layer(l, "self_attn.q_proj.bias"));
                addBias(k[t], Model.layer(l, "self_attn.k_proj.bias"));
                addBias(v[t], Model.layer(l, "self_attn.v_proj.bias"));
                rope(q[t], c.nHeads, t);
                rope(k[t], c.nKvHeads, t);
            }
            int window = windows ? c.slidingWindow(l) : 0;
            for (int t = 0; t < n; t++) {
                double[] att = new double[c.qDim()];
                int first = window > 0 ? Math.max(0, t - window + 1) : 0;
                for (int h = 0; h < c.nHeads; h++) {
                    int kh = h / (c.nHeads / c.nKvHeads);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = first; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) dot += q[t][h * hd + i] * k[j][kh * hd + i];
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= t; j++) sum += (s[j] = Math.exp(s[j] - max));
                    for (int j = first; j <= t; j++) for (int i = 0; i < hd; i++) att[h * hd + i] += s[j] / sum * v[j][kh * hd + i];
                }
                double[] o = linear(Model.layer(l, "self_attn.o_proj.weight"), att);
                for (int i = 0; i < d; i++) x[t][i] += o[i];
            }
            double[] g2 = vec(m.tensor(Model.layer(l, "post_attention_layernorm.weight")));
            for (int t = 0; t < n; t++) {
                double[] h = rmsnorm(x[t], g2);
                double[] gate = linear(Model.layer(l, "mlp.gate_proj.weight"), h);
                double[] up = linear(Model.layer(l, "mlp.up_proj.weight"), h);
                for (int i = 0; i < gate.length; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                double[] down = linear(Model.layer(l, "mlp.down_proj.weight"), gate);
                for (int i = 0; i < d; i++) x[t][i] += down[i];
            }
        }
        double[] gf = vec(m.finalNorm());
        String head = c.tiedEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) out[t] = linear(head, rmsnorm(x[t], gf));
        return out;
    }

    /** Summed NLL of tokens[t+1] over t = 0..n-2. */
    public double nll(int[] tokens, int[] blocks) { return nll(logits(tokens, blocks), tokens); }

    /** Summed NLL of tokens[t+1] over t = 0..n-2, from logits [n][vocab]. */
    public static double nll(double[][] lg, int[] tokens) {
        double s = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : lg[t]) max = Math.max(max, v);
            double sum = 0;
            for (double v : lg[t]) sum += Math.exp(v - max);
            s += max + Math.log(sum) - lg[t][tokens[t + 1]];
        }
        return s;
    }
}
