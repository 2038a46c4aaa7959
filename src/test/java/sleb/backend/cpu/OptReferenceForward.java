package sleb.backend.cpu;

import java.util.HashMap;
import java.util.Map;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;
import sleb.model.Tensor;

/**
 * The OPT forward in float64, one position at a time, written as plainly as possible from transformers'
 * modeling_opt.py (OPTDecoder.forward, OPTDecoderLayer.forward, OPTAttention): the tests' yardstick for OPT.
 * Weights are read as stored (F32 or F16 values, widened exactly) and held as doubles.
 */
public final class OptReferenceForward {
    private final Model m;
    private final ModelConfig c;
    private final OptLayout o;
    private final Map<String, double[]> weights = new HashMap<>();

    public OptReferenceForward(Model m) {
        this.m = m;
        this.c = m.config();
        this.o = c.opt;
    }

    private double[] w(String name) {
        return weights.computeIfAbsent(name, n -> {
            Tensor t = m.tensor(n);
            double[] v = new double[(int) t.numel()];
            for (int i = 0; i < v.length; i++) v[i] = t.get(i);
            return v;
        });
    }

    private static String l(int layer, String suffix) { return "model.decoder.layers." + layer + "." + suffix; }

    /** nn.Linear: y = W x (+ b), W [out][in]. */
    private double[] linear(String weight, String bias, double[] x) {
        double[] wt = w(weight);
        int in = x.length, out = wt.length / in;
        double[] y = new double[out];
        double[] b = bias == null ? null : w(bias);
        for (int r = 0; r < out; r++) {
            double s = b == null ? 0 : b[r];
            for (int i = 0; i < in; i++) s += wt[r * in + i] * x[i];
            y[r] = s;
        }
        return y;
    }

    /** nn.LayerNorm(eps 1e-5): (x - mean) / sqrt(biased var + eps) * weight + bias. */
    private double[] layerNorm(double[] x, String prefix) {
        double mean = 0;
        for (double v : x) mean += v;
        mean /= x.length;
        double var = 0;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= x.length;
        double[] g = w(prefix + ".weight"), b = w(prefix + ".bias");
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) / Math.sqrt(var + 1e-5) * g[i] + b[i];
        return y;
    }

    /** Logits [n][vocab] of one sequence at positions pos0.. (no padding) with only the given blocks run. */
    public double[][] logits(int[] tokens, int[] blocks) {
        int n = tokens.length, d = c.dim, hd = c.headDim, proj = o.wordEmbedProjDim;
        double[] embed = w("model.decoder.embed_tokens.weight"), pos = w("model.decoder.embed_positions.weight");
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] e = new double[proj];
            System.arraycopy(embed, tokens[t] * proj, e, 0, proj);
            if (o.projectInOut) e = linear("model.decoder.project_in.weight", null, e);
            // positions: attention_mask.cumsum - 1 = t without padding, then the offset of 2
            for (int i = 0; i < d; i++) e[i] += pos[(t + 2) * d + i];
            x[t] = e;
        }
        double scaling = 1 / Math.sqrt(hd);
        for (int b : blocks) {
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            double[][] residual = new double[n][];
            for (int t = 0; t < n; t++) {
                residual[t] = x[t];
                double[] h = o.layerNormBefore ? layerNorm(x[t], l(b, "self_attn_layer_norm")) : x[t];
                q[t] = linear(l(b, "self_attn.q_proj.weight"), l(b, "self_attn.q_proj.bias"), h);
                for (int i = 0; i < d; i++) q[t][i] *= scaling;
                k[t] = linear(l(b, "self_attn.k_proj.weight"), l(b, "self_attn.k_proj.bias"), h);
                v[t] = linear(l(b, "self_attn.v_proj.weight"), l(b, "self_attn.v_proj.bias"), h);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[d];
                for (int h = 0; h < c.nHeads; h++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) s[j] += q[t][h * hd + i] * k[j][h * hd + i];
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) sum += (s[j] = Math.exp(s[j] - max));
                    for (int j = 0; j <= t; j++) for (int i = 0; i < hd; i++) att[h * hd + i] += s[j] / sum * v[j][h * hd + i];
                }
                double[] out = linear(l(b, "self_attn.out_proj.weight"), l(b, "self_attn.out_proj.bias"), att);
                double[] h = new double[d];
                for (int i = 0; i < d; i++) h[i] = residual[t][i] + out[i];
                if (!o.layerNormBefore) h = layerNorm(h, l(b, "self_attn_layer_norm"));
                double[] in = o.layerNormBefore ? layerNorm(h, l(b, "final_layer_norm")) : h;
                double[] f = linear(l(b, "fc1.weight"), l(b, "fc1.bias"), in);
                for (int i = 0; i < f.length; i++) f[i] = Math.max(0, f[i]);
                double[] f2 = linear(l(b, "fc2.weight"), l(b, "fc2.bias"), f);
                for (int i = 0; i < d; i++) h[i] += f2[i];
                if (!o.layerNormBefore) h = layerNorm(h, l(b, "final_layer_norm"));
                x[t] = h;
            }
        }
        double[][] out = new double[n][];
        String head = c.tiedEmbeddings ? "model.decoder.embed_tokens.weight" : "lm_head.weight";
        for (int t = 0; t < n; t++) {
            double[] h = x[t];
            if (o.finalLayerNorm) h = layerNorm(h, "model.decoder.final_layer_norm");
            if (o.projectInOut) h = linear("model.decoder.project_out.weight", null, h);
            out[t] = linear(head, null, h);
        }
        return out;
    }

    /** Summed NLL of tokens[t+1] over t = 0..n-2. */
    public double nll(int[] tokens, int[] blocks) { return ReferenceForward.nll(logits(tokens, blocks), tokens); }
}
