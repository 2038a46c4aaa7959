package sleb.backend.cuda;

import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;
import sleb.model.Tensor;

/**
 * OPT's forward in float64, one sequence at a time, written plainly from transformers' modeling_opt.py
 * (OPTDecoder, OPTDecoderLayer, OPTAttention): the CUDA OPT tests' yardstick. Optionally rounds every
 * projection's input to the GEMM dtype (the q_proj weights' type), as the CUDA backend does for 16-bit
 * models, so that the rest can stay exact and the comparison tight.
 */
final class OptReference {
    private final Model m;
    private final ModelConfig c;
    private final DType gemmInput;

    OptReference(Model m, boolean roundGemmInputs) {
        this.m = m;
        this.c = m.config();
        this.gemmInput = roundGemmInputs ? m.tensor(OptLayout.layer(0, OptLayout.Q_PROJ + ".weight")).dtype() : DType.F32;
    }

    private double[] vec(String name) {
        Tensor t = m.tensor(name);
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.get(i);
        return v;
    }

    private double[] row(String name, int r) {
        Tensor t = m.tensor(name);
        int n = (int) t.dim(1);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = t.get((long) r * n + i);
        return v;
    }

    /** nn.Linear: W [out][in] x (+ b when bias is not null), on the rounded input. */
    private double[] linear(String weight, String bias, double[] x) {
        x = rounded(x);
        Tensor t = m.tensor(weight);
        int out = (int) t.dim(0), in = (int) t.dim(1);
        double[] b = bias == null ? null : vec(bias);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) s += t.get((long) o * in + i) * x[i];
            y[o] = s + (b == null ? 0 : b[o]);
        }
        return y;
    }

    private double[] rounded(double[] v) {
        if (gemmInput == DType.F32) return v;
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            float f = (float) v[i];
            r[i] = gemmInput == DType.BF16 ? DType.bf16ToFloat(DType.floatToBf16(f)) : DType.f16ToFloat(DType.floatToF16(f));
        }
        return r;
    }

    /** torch.nn.LayerNorm: biased variance, eps from the config (1e-5). */
    private double[] layerNorm(double[] x, String prefix) {
        double[] g = vec(prefix + ".weight"), b = vec(prefix + ".bias");
        double mean = 0, var = 0;
        for (double v : x) mean += v;
        mean /= x.length;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) / Math.sqrt(var + c.normEps) * g[i] + b[i];
        return y;
    }

    private static void addInto(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    /** Causal self-attention of all positions h [T][dim] of one block; q scaled by head_dim^-0.5 after its bias. */
    private double[][] attention(int layer, double[][] h) {
        int T = h.length, nH = c.nHeads, hd = c.headDim;
        double[][] q = new double[T][], k = new double[T][], v = new double[T][];
        double scaling = Math.pow(hd, -0.5);
        for (int t = 0; t < T; t++) {
            q[t] = linear(OptLayout.layer(layer, OptLayout.Q_PROJ + ".weight"), OptLayout.layer(layer, OptLayout.Q_PROJ + ".bias"), h[t]);
            for (int i = 0; i < q[t].length; i++) q[t][i] *= scaling;
            k[t] = linear(OptLayout.layer(layer, OptLayout.K_PROJ + ".weight"), OptLayout.layer(layer, OptLayout.K_PROJ + ".bias"), h[t]);
            v[t] = linear(OptLayout.layer(layer, OptLayout.V_PROJ + ".weight"), OptLayout.layer(layer, OptLayout.V_PROJ + ".bias"), h[t]);
        }
        double[][] out = new double[T][];
        for (int t = 0; t < T; t++) {
            double[] o = new double[nH * hd];
            for (int hh = 0; hh < nH; hh++) {
                double[] s = new double[t + 1];
                double mx = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    for (int e = 0; e < hd; e++) s[j] += q[t][hh * hd + e] * k[j][hh * hd + e];
                    mx = Math.max(mx, s[j]);
                }
                for (int j = 0; j <= t; j++) sum += (s[j] = Math.exp(s[j] - mx));
                for (int j = 0; j <= t; j++)
                    for (int e = 0; e < hd; e++) o[hh * hd + e] += s[j] / sum * v[j][hh * hd + e];
            }
            out[t] = linear(OptLayout.layer(layer, OptLayout.OUT_PROJ + ".weight"), OptLayout.layer(layer, OptLayout.OUT_PROJ + ".bias"), o);
        }
        return out;
    }

    private double[] mlp(int layer, double[] x) {
        double[] a = linear(OptLayout.layer(layer, OptLayout.FC1 + ".weight"), OptLayout.layer(layer, OptLayout.FC1 + ".bias"), x);
        for (int i = 0; i < a.length; i++) a[i] = Math.max(0, a[i]);
        return linear(OptLayout.layer(layer, OptLayout.FC2 + ".weight"), OptLayout.layer(layer, OptLayout.FC2 + ".bias"), a);
    }

    /** Logits [T][vocab] of one sequence at positions 0..T-1, running only {@code blocks} in order. */
    double[][] logits(int[] tokens, int[] blocks) {
        int T = tokens.length;
        OptLayout o = c.opt;
        double[][] h = new double[T][];
        for (int t = 0; t < T; t++) {
            double[] e = row(OptLayout.EMBED_TOKENS, tokens[t]);
            h[t] = o.projectInOut ? linear(OptLayout.PROJECT_IN, null, e) : e;
            addInto(h[t], row(OptLayout.EMBED_POSITIONS, t + 2)); // fairseq's offset: position p is row p + 2
        }
        for (int layer : blocks) {
            String ln1 = OptLayout.layer(layer, OptLayout.ATTN_NORM), ln2 = OptLayout.layer(layer, OptLayout.FFN_NORM);
            double[][] in = new double[T][];
            for (int t = 0; t < T; t++) in[t] = o.layerNormBefore ? layerNorm(h[t], ln1) : h[t];
            double[][] att = attention(layer, in);
            for (int t = 0; t < T; t++) {
                addInto(h[t], att[t]);
                if (!o.layerNormBefore) h[t] = layerNorm(h[t], ln1);
                double[] y = mlp(layer, o.layerNormBefore ? layerNorm(h[t], ln2) : h[t]);
                addInto(h[t], y);
                if (!o.layerNormBefore) h[t] = layerNorm(h[t], ln2);
            }
        }
        double[][] logits = new double[T][];
        for (int t = 0; t < T; t++) {
            double[] x = o.finalLayerNorm ? layerNorm(h[t], "model.decoder.final_layer_norm") : h[t];
            if (o.projectInOut) x = linear(OptLayout.PROJECT_OUT, null, x);
            logits[t] = linear(c.tiedEmbeddings ? OptLayout.EMBED_TOKENS : OptLayout.LM_HEAD, null, x);
        }
        return logits;
    }
}
