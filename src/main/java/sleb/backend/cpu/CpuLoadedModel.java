package sleb.backend.cpu;

import sleb.backend.Activations;
import sleb.backend.Backend;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.FiniteWeights;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.util.Parallel;

/**
 * A model on the CPU: weights on the heap in their stored dtype, the forward pass written out op by op
 * in the manner of llama2.c's run.c, batched over all positions of all sequences at once.
 * Not thread-safe: one caller at a time (the work inside each call uses every core).
 */
public final class CpuLoadedModel implements LoadedModel {
    private final CpuBackend backend;
    private final ModelConfig cfg;
    private final Parallel par;
    private final Layer[] layers;
    private final WeightMatrix embed, lmHead;
    private final float[] finalNorm;
    private final double[] invFreq;
    private float[] cos = new float[0], sin = new float[0];
    private int ropePositions;
    private final Scratch scratch = new Scratch();

    static final class Layer {
        float[] attnNorm, ffnNorm, qBias, kBias, vBias;
        WeightMatrix wq, wk, wv, wo, gate, up, down;
    }

    CpuLoadedModel(CpuBackend backend, Model model, Parallel par) {
        this.backend = backend;
        this.cfg = model.config();
        this.par = par;
        this.layers = new Layer[cfg.nLayers];
        for (int i = 0; i < cfg.nLayers; i++) {
            Layer l = new Layer();
            l.attnNorm = FiniteWeights.floats(model.tensor(Model.layer(i, "input_layernorm.weight")));
            l.ffnNorm = FiniteWeights.floats(model.tensor(Model.layer(i, "post_attention_layernorm.weight")));
            l.wq = WeightMatrix.of(model.tensor(Model.layer(i, "self_attn.q_proj.weight")));
            l.wk = WeightMatrix.of(model.tensor(Model.layer(i, "self_attn.k_proj.weight")));
            l.wv = WeightMatrix.of(model.tensor(Model.layer(i, "self_attn.v_proj.weight")));
            l.wo = WeightMatrix.of(model.tensor(Model.layer(i, "self_attn.o_proj.weight")));
            l.gate = WeightMatrix.of(model.tensor(Model.layer(i, "mlp.gate_proj.weight")));
            l.up = WeightMatrix.of(model.tensor(Model.layer(i, "mlp.up_proj.weight")));
            l.down = WeightMatrix.of(model.tensor(Model.layer(i, "mlp.down_proj.weight")));
            if (cfg.qkvBias) {
                l.qBias = FiniteWeights.floats(model.tensor(Model.layer(i, "self_attn.q_proj.bias")));
                l.kBias = FiniteWeights.floats(model.tensor(Model.layer(i, "self_attn.k_proj.bias")));
                l.vBias = FiniteWeights.floats(model.tensor(Model.layer(i, "self_attn.v_proj.bias")));
            }
            layers[i] = l;
        }
        embed = WeightMatrix.of(model.embedding());
        lmHead = cfg.tiedEmbeddings ? embed : WeightMatrix.of(model.lmHead());
        finalNorm = FiniteWeights.floats(model.finalNorm());
        invFreq = cfg.ropeInvFreq();
        ensureRope(Math.min(cfg.maxSeqLen, 4096));
    }

    @Override public ModelConfig config() { return cfg; }
    @Override public Backend backend() { return backend; }

    private synchronized void ensureRope(int positions) {
        if (positions <= ropePositions) return;
        int half = cfg.headDim / 2;
        float[] c = new float[positions * half], s = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                c[p * half + i] = (float) Math.cos(a);
                s[p * half + i] = (float) Math.sin(a);
            }
        }
        cos = c;
        sin = s;
        ropePositions = positions;
    }

    @Override
    public Activations embed(int[][] tokens) {
        int b = tokens.length, n = tokens[0].length;
        float[] x = new float[b * n * cfg.dim];
        for (int s = 0; s < b; s++) {
            if (tokens[s].length != n) throw new IllegalArgumentException("all sequences of a batch must have the same length");
            for (int t = 0; t < n; t++) {
                int id = tokens[s][t];
                if (id < 0 || id >= cfg.vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + cfg.vocabSize);
                embed.widenRow(id, x, (s * n + t) * cfg.dim);
            }
        }
        return new CpuActivations(x, b, n, cfg.dim);
    }

    @Override
    public void runBlock(int layer, Activations x) {
        CpuActivations a = (CpuActivations) x;
        block(layer, a.data, a.batch(), a.seqLen(), 0, null, null, a.seqLen());
    }

    /**
     * One block over batch x n rows at positions pos0..pos0+n-1. With caches, new keys and values are
     * written at those positions (keys transposed per head, [batch][kvHeads][headDim][cap]; values as rows,
     * [batch][cap][kvDim]) and attention reads positions 0..pos0+n-1;
     * without, the block's own keys and values are the whole context.
     */
    void block(int li, float[] x, int batch, int n, int pos0, float[] kCache, float[] vCache, int cap) {
        Layer l = layers[li];
        int rows = batch * n, dim = cfg.dim, qd = cfg.qDim(), kvd = cfg.kvDim(), hid = cfg.hiddenDim;
        ensureRope(pos0 + n);
        float[] xb = scratch.get(Buf.XB, rows * dim);
        float[] q = scratch.get(Buf.Q, rows * qd);
        float[] k = scratch.get(Buf.K, rows * kvd);
        float[] v = scratch.get(Buf.V, rows * kvd);

        // attention rmsnorm
        CpuOps.rmsnorm(par, x, l.attnNorm, cfg.normEps, xb, rows, dim);
        // q, k, v projections (plus their biases in Qwen2)
        matmul(q, xb, l.wq, rows, qd);
        matmul(k, xb, l.wk, rows, kvd);
        matmul(v, xb, l.wv, rows, kvd);
        if (l.qBias != null) {
            CpuOps.addBias(q, rows, l.qBias);
            CpuOps.addBias(k, rows, l.kBias);
            CpuOps.addBias(v, rows, l.vBias);
        }
        // RoPE on q and k, at each row's position
        CpuOps.rope(q, rows, cfg.nHeads, cfg.headDim, n, pos0, cos, sin, cfg.ropeStyle);
        CpuOps.rope(k, rows, cfg.nKvHeads, cfg.headDim, n, pos0, cos, sin, cfg.ropeStyle);
        // keys transposed per head, values as rows: into the session's cache at pos0.., or this call's own
        float[] kT, vRows;
        int kCap;
        if (kCache != null) {
            CpuOps.transposeKeys(par, k, batch, n, cfg.nKvHeads, cfg.headDim, kCache, cap, pos0);
            for (int b = 0; b < batch; b++) System.arraycopy(v, b * n * kvd, vCache, (b * cap + pos0) * kvd, n * kvd);
            kT = kCache;
            kCap = cap;
            vRows = vCache;
        } else {
            kT = scratch.get(Buf.KEYS_T, rows * kvd);
            CpuOps.transposeKeys(par, k, batch, n, cfg.nKvHeads, cfg.headDim, kT, n, 0);
            kCap = n;
            vRows = v;
        }
        // causal (or sliding-window) multi-head attention with grouped KV heads
        float[] att = scratch.get(Buf.ATT, rows * qd);
        CpuOps.attention(par, q, kT, kCap, vRows, att, batch, n, pos0, cap, cfg.nHeads, cfg.nKvHeads, cfg.headDim,
                cfg.slidingWindow(li));
        // output projection and residual: x += att Wo^T
        residualAdd(x, att, l.wo, rows, dim);

        // ffn rmsnorm
        CpuOps.rmsnorm(par, x, l.ffnNorm, cfg.normEps, xb, rows, dim);
        // gate and up projections, then SwiGLU: hb = silu(hb) * hb2
        float[] hb = scratch.get(Buf.HB, rows * hid);
        float[] hb2 = scratch.get(Buf.HB2, rows * hid);
        matmul(hb, xb, l.gate, rows, hid);
        matmul(hb2, xb, l.up, rows, hid);
        CpuOps.swiglu(par, hb, hb2, rows, hid);
        // down projection and residual: x += hb Wdown^T
        residualAdd(x, hb, l.down, rows, dim);
    }

    /** out[rows][width] = in[rows][W.cols] W^T (nn.Linear without bias). */
    private void matmul(float[] out, float[] in, WeightMatrix w, int rows, int width) {
        MatMul.apply(par, in, 0, rows, w, out, 0, width, false);
    }

    /** x[rows][width] += in[rows][W.cols] W^T: a projection added onto the residual stream. */
    private void residualAdd(float[] x, float[] in, WeightMatrix w, int rows, int width) {
        MatMul.apply(par, in, 0, rows, w, x, 0, width, true);
    }

    private static final int LOGIT_ROWS = 64;

    @Override
    public double[] nll(Activations xa, int[][] tokens) {
        double[][] per = positionNllRows((CpuActivations) xa, tokens);
        double[] out = new double[per.length];
        for (int s = 0; s < per.length; s++) for (double v : per[s]) out[s] += v;
        return out;
    }

    @Override
    public float[][] positionNll(Activations xa, int[][] tokens) {
        double[][] per = positionNllRows((CpuActivations) xa, tokens);
        float[][] out = new float[per.length][];
        for (int s = 0; s < per.length; s++) {
            out[s] = new float[per[s].length];
            for (int t = 0; t < per[s].length; t++) out[s][t] = (float) per[s][t];
        }
        return out;
    }

    /** Final norm, lm_head and log-softmax over LOGIT_ROWS positions at a time: per-position NLL, no full logits. */
    private double[][] positionNllRows(CpuActivations a, int[][] tokens) {
        int batch = a.batch(), n = a.seqLen(), dim = cfg.dim, vocab = cfg.vocabSize;
        double[][] out = new double[batch][n - 1];
        float[] normed = scratch.get(Buf.XB, LOGIT_ROWS * dim);
        float[] logits = scratch.get(Buf.LOGITS, LOGIT_ROWS * vocab);
        for (int s = 0; s < batch; s++) {
            for (int t0 = 0; t0 < n - 1; t0 += LOGIT_ROWS) {
                int cnt = Math.min(LOGIT_ROWS, n - 1 - t0);
                CpuOps.rmsnorm(par, sliceRows(a.data, s * n + t0, cnt, dim), finalNorm, cfg.normEps, normed, cnt, dim);
                MatMul.apply(par, normed, 0, cnt, lmHead, logits, 0, vocab, false);
                int tt0 = t0, ss = s;
                double[] row = out[s];
                par.forEach(cnt, r -> {
                    int target = tokens[ss][tt0 + r + 1];
                    row[tt0 + r] = logSumExp(logits, r * vocab, vocab) - logits[r * vocab + target];
                });
            }
        }
        return out;
    }

    private float[] sliceRows(float[] x, int row0, int cnt, int dim) {
        float[] s = scratch.get(Buf.ROWS, cnt * dim);
        System.arraycopy(x, row0 * dim, s, 0, cnt * dim);
        return s;
    }

    static double logSumExp(float[] v, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) max = Math.max(max, v[off + i]);
        double sum = 0;
        for (int i = 0; i < len; i++) sum += Math.exp(v[off + i] - max);
        return max + Math.log(sum);
    }

    private float[][] logitsOfRows(float[] x, int[] rowIdx) {
        int dim = cfg.dim, vocab = cfg.vocabSize;
        float[][] out = new float[rowIdx.length][];
        float[] in = new float[rowIdx.length * dim];
        for (int i = 0; i < rowIdx.length; i++) System.arraycopy(x, rowIdx[i] * dim, in, i * dim, dim);
        float[] normed = new float[in.length];
        CpuOps.rmsnorm(par, in, finalNorm, cfg.normEps, normed, rowIdx.length, dim);
        float[] flat = new float[rowIdx.length * vocab];
        MatMul.apply(par, normed, 0, rowIdx.length, lmHead, flat, 0, vocab, false);
        for (int i = 0; i < rowIdx.length; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
        return out;
    }

    @Override
    public float[][] lastLogits(Activations xa) {
        CpuActivations a = (CpuActivations) xa;
        int[] rows = new int[a.batch()];
        for (int b = 0; b < rows.length; b++) rows[b] = b * a.seqLen() + a.seqLen() - 1;
        return logitsOfRows(a.data, rows);
    }

    @Override
    public Activations copy(Activations x) {
        CpuActivations a = (CpuActivations) x;
        return new CpuActivations(a.data.clone(), a.batch(), a.seqLen(), a.dim());
    }

    @Override
    public Activations fromHost(float[] data, int batch, int seqLen) {
        if (data.length != batch * seqLen * cfg.dim) throw new IllegalArgumentException("host data has " + data.length + " floats, not batch x seqLen x dim");
        return new CpuActivations(data.clone(), batch, seqLen, cfg.dim);
    }

    @Override
    public double[] cosineSum(Activations xa, Activations ya) {
        CpuActivations a = (CpuActivations) xa, b = (CpuActivations) ya;
        int dim = cfg.dim, n = a.seqLen();
        double[] out = new double[a.batch()];
        for (int s = 0; s < a.batch(); s++) {
            for (int t = 0; t < n; t++) {
                int o = (s * n + t) * dim;
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < dim; i++) {
                    double p = a.data[o + i], q = b.data[o + i];
                    dot += p * q;
                    na += p * p;
                    nb += q * q;
                }
                out[s] += dot / Math.max(1e-30, Math.sqrt(na * nb));
            }
        }
        return out;
    }

    @Override
    public DecodeSession newSession(int batch, int maxLen, int[] blocks) {
        return new CpuDecodeSession(this, batch, maxLen, blocks);
    }

    @Override
    public void close() {}

    /** The work buffers, named after llama2.c's RunState where it has one. */
    private enum Buf {
        /** rmsnorm output: a block's normed rows, or the final norm of LOGIT_ROWS positions */
        XB,
        /** queries [rows][qDim] */
        Q,
        /** keys [rows][kvDim], before they are transposed */
        K,
        /** values [rows][kvDim] */
        V,
        /** keys transposed per head, [batch][kvHeads][headDim][n], when there is no session cache */
        KEYS_T,
        /** attention output [rows][qDim] */
        ATT,
        /** gate projection, then SwiGLU's output [rows][hiddenDim] */
        HB,
        /** up projection [rows][hiddenDim] */
        HB2,
        /** logits of LOGIT_ROWS positions [LOGIT_ROWS][vocab] */
        LOGITS,
        /** a copy of LOGIT_ROWS hidden states going into the final norm */
        ROWS
    }

    /** Reusable work buffers, grown on demand, so steady-state calls allocate nothing large. */
    private static final class Scratch {
        private final float[][] bufs = new float[Buf.values().length][];

        float[] get(Buf slot, int len) {
            float[] b = bufs[slot.ordinal()];
            if (b == null || b.length < len) {
                b = new float[len];
                bufs[slot.ordinal()] = b;
            }
            return b;
        }
    }
}
