package sleb.backend.cpu;

import sleb.backend.Activations;
import sleb.backend.Backend;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.FiniteWeights;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;
import sleb.util.UsageException;
import sleb.util.Parallel;

/**
 * A model on the CPU: weights on the heap in their stored dtype, the forward pass written out op by op
 * in the manner of llama2.c's run.c, batched over all positions of all sequences at once. LLaMA-family
 * blocks in {@link #block}, OPT blocks (transformers' modeling_opt.py, see {@link OptLayout}) in {@link #optBlock}.
 * Not thread-safe: one caller at a time (the work inside each call uses every core).
 */
public final class CpuLoadedModel implements LoadedModel {
    private final CpuBackend backend;
    private final ModelConfig cfg;
    private final Parallel par;
    private final Layer[] layers;
    private final WeightMatrix embed, lmHead;
    private final float[] finalNorm;
    /** OPT only: final LayerNorm bias (null without a final LayerNorm), learned positions [maxSeqLen + 2][dim]. */
    private final float[] finalNormBias, positions;
    /** OPT only, null unless word_embed_proj_dim != hidden_size: project_in [dim x proj], project_out [proj x dim]. */
    private final WeightMatrix projectIn, projectOut;
    private final double[] invFreq;
    private float[] cos = new float[0], sin = new float[0];
    private int ropePositions;
    private final Scratch scratch = new Scratch();

    static final class Layer {
        float[] attnNorm, ffnNorm, qBias, kBias, vBias;
        WeightMatrix wq, wk, wv, wo, gate, up, down;
        /** OPT: LayerNorm biases, out_proj, fc1 and fc2 biases; up is fc1 and down is fc2 (gate unused). */
        float[] attnNormBias, ffnNormBias, oBias, upBias, downBias;
    }

    CpuLoadedModel(CpuBackend backend, Model model, Parallel par) {
        this.backend = backend;
        this.cfg = model.config();
        this.par = par;
        this.layers = new Layer[cfg.nLayers];
        if (cfg.opt != null) {
            for (int i = 0; i < cfg.nLayers; i++) layers[i] = optLayer(model, i);
            embed = WeightMatrix.of(model.embedding());
            lmHead = cfg.tiedEmbeddings ? embed : WeightMatrix.of(model.lmHead());
            finalNorm = cfg.opt.finalLayerNorm ? FiniteWeights.floats(model.finalNorm()) : null;
            finalNormBias = cfg.opt.finalLayerNorm ? FiniteWeights.floats(model.tensor(OptLayout.FINAL_NORM_BIAS)) : null;
            positions = FiniteWeights.floats(model.tensor(OptLayout.EMBED_POSITIONS));
            projectIn = cfg.opt.projectInOut ? WeightMatrix.of(model.tensor(OptLayout.PROJECT_IN)) : null;
            projectOut = cfg.opt.projectInOut ? WeightMatrix.of(model.tensor(OptLayout.PROJECT_OUT)) : null;
            invFreq = null;
            return;
        }
        finalNormBias = null;
        positions = null;
        projectIn = projectOut = null;
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

    /** One OPT block's weights: every projection with its bias, two LayerNorms with theirs. */
    private static Layer optLayer(Model model, int i) {
        Layer l = new Layer();
        l.attnNorm = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.ATTN_NORM + ".weight")));
        l.attnNormBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.ATTN_NORM + ".bias")));
        l.wq = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.Q_PROJ + ".weight")));
        l.wk = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.K_PROJ + ".weight")));
        l.wv = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.V_PROJ + ".weight")));
        l.wo = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.OUT_PROJ + ".weight")));
        l.qBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.Q_PROJ + ".bias")));
        l.kBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.K_PROJ + ".bias")));
        l.vBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.V_PROJ + ".bias")));
        l.oBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.OUT_PROJ + ".bias")));
        l.ffnNorm = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.FFN_NORM + ".weight")));
        l.ffnNormBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.FFN_NORM + ".bias")));
        l.up = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.FC1 + ".weight")));
        l.upBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.FC1 + ".bias")));
        l.down = WeightMatrix.of(model.tensor(OptLayout.layer(i, OptLayout.FC2 + ".weight")));
        l.downBias = FiniteWeights.floats(model.tensor(OptLayout.layer(i, OptLayout.FC2 + ".bias")));
        return l;
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
    public Activations embed(int[][] tokens) { return embed(tokens, 0); }

    @Override
    public Activations embed(int[][] tokens, int pos0) {
        int b = tokens.length, n = tokens[0].length, ed = cfg.embedDim();
        if (cfg.opt != null && pos0 + n > cfg.maxSeqLen)
            throw new UsageException("OPT has learned positions for max_position_embeddings " + cfg.maxSeqLen + " positions; position "
                    + (pos0 + n - 1) + " has none, so use windows (or prompt plus generated tokens) of at most " + cfg.maxSeqLen);
        float[] e = new float[b * n * ed];
        for (int s = 0; s < b; s++) {
            if (tokens[s].length != n) throw new IllegalArgumentException("all sequences of a batch must have the same length");
            for (int t = 0; t < n; t++) {
                int id = tokens[s][t];
                if (id < 0 || id >= cfg.vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + cfg.vocabSize);
                embed.widenRow(id, e, (s * n + t) * ed);
            }
        }
        if (cfg.opt == null) return new CpuActivations(e, b, n, cfg.dim);
        // OPT: project_in (word_embed_proj_dim -> hidden_size) where present, then the learned position row p + 2
        float[] x = e;
        if (projectIn != null) {
            x = new float[b * n * cfg.dim];
            matmul(x, e, projectIn, b * n, cfg.dim);
        }
        CpuOps.addPositions(x, b, n, cfg.dim, positions, pos0 + OptLayout.POSITION_OFFSET);
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
        if (cfg.opt != null) {
            optBlock(li, x, batch, n, pos0, kCache, vCache, cap);
            return;
        }
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
        // causal (or sliding-window) multi-head attention with grouped KV heads, keys and values cached
        float[] att = attend(li, q, k, v, batch, n, pos0, kCache, vCache, cap);
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

    /**
     * Attention of q over the keys and values so far. Keys are stored transposed per head and values as rows: into
     * the session's cache at pos0.. (attention then reads positions 0..pos0+n-1), or this call's own buffers.
     * q is scaled by head_dim^-0.5 inside {@link CpuOps#attention}. Returns att [rows][qDim] (a scratch buffer).
     */
    private float[] attend(int li, float[] q, float[] k, float[] v, int batch, int n, int pos0, float[] kCache, float[] vCache, int cap) {
        int rows = batch * n, kvd = cfg.kvDim();
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
        float[] att = scratch.get(Buf.ATT, rows * cfg.qDim());
        CpuOps.attention(par, q, kT, kCap, vRows, att, batch, n, pos0, cap, cfg.nHeads, cfg.nKvHeads, cfg.headDim,
                cfg.slidingWindow(li));
        return att;
    }

    /**
     * One OPT block (modeling_opt.py OPTDecoderLayer), same arguments and caches as {@link #block}. Pre-LN
     * (do_layer_norm_before) normalizes the input of attention and MLP; post-LN (opt-350m) normalizes the
     * residual stream after each residual add. Positions entered at {@link #embed(int[][], int)}: no RoPE here.
     */
    private void optBlock(int li, float[] x, int batch, int n, int pos0, float[] kCache, float[] vCache, int cap) {
        Layer l = layers[li];
        boolean pre = cfg.opt.layerNormBefore;
        int rows = batch * n, dim = cfg.dim, ffn = cfg.hiddenDim;
        float[] q = scratch.get(Buf.Q, rows * dim);
        float[] k = scratch.get(Buf.K, rows * dim);
        float[] v = scratch.get(Buf.V, rows * dim);

        // self_attn_layer_norm before attention (pre-LN), else attention reads the residual stream itself
        float[] in = x;
        if (pre) {
            in = scratch.get(Buf.XB, rows * dim);
            CpuOps.layerNorm(par, x, l.attnNorm, l.attnNormBias, cfg.normEps, in, rows, dim);
        }
        // q, k, v projections with their biases (q's head_dim^-0.5 scaling, applied after the bias, is inside attention)
        matmul(q, in, l.wq, rows, dim);
        matmul(k, in, l.wk, rows, dim);
        matmul(v, in, l.wv, rows, dim);
        CpuOps.addBias(q, rows, l.qBias);
        CpuOps.addBias(k, rows, l.kBias);
        CpuOps.addBias(v, rows, l.vBias);
        // causal multi-head attention, keys and values cached
        float[] att = attend(li, q, k, v, batch, n, pos0, kCache, vCache, cap);
        // out_proj with bias, residual: x += att Wo^T + bo
        residualAdd(x, att, l.wo, rows, dim);
        CpuOps.addBias(x, rows, l.oBias);
        // post-LN: self_attn_layer_norm on the residual stream, in place
        if (!pre) CpuOps.layerNorm(par, x, l.attnNorm, l.attnNormBias, cfg.normEps, x, rows, dim);

        // final_layer_norm (the block's MLP norm) before the MLP (pre-LN)
        in = x;
        if (pre) {
            in = scratch.get(Buf.XB, rows * dim);
            CpuOps.layerNorm(par, x, l.ffnNorm, l.ffnNormBias, cfg.normEps, in, rows, dim);
        }
        // fc1 with bias, ReLU
        float[] hb = scratch.get(Buf.HB, rows * ffn);
        matmul(hb, in, l.up, rows, ffn);
        CpuOps.addBias(hb, rows, l.upBias);
        CpuOps.relu(par, hb, rows, ffn);
        // fc2 with bias, residual: x += hb W2^T + b2
        residualAdd(x, hb, l.down, rows, dim);
        CpuOps.addBias(x, rows, l.downBias);
        // post-LN: final_layer_norm on the residual stream, in place
        if (!pre) CpuOps.layerNorm(par, x, l.ffnNorm, l.ffnNormBias, cfg.normEps, x, rows, dim);
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
        double[][] per = positionNllRows((CpuActivations) xa, tokens, 0);
        double[] out = new double[per.length];
        for (int s = 0; s < per.length; s++) for (double v : per[s]) out[s] += v;
        return out;
    }

    @Override
    public float[][] positionNll(Activations xa, int[][] tokens) { return positionNll(xa, tokens, 0); }

    @Override
    public float[][] positionNll(Activations xa, int[][] tokens, int from) {
        double[][] per = positionNllRows((CpuActivations) xa, tokens, from);
        float[][] out = new float[per.length][];
        for (int s = 0; s < per.length; s++) {
            out[s] = new float[per[s].length];
            for (int t = 0; t < per[s].length; t++) out[s][t] = (float) per[s][t];
        }
        return out;
    }

    /**
     * Final norm, lm_head and log-softmax over LOGIT_ROWS positions at a time: per-position NLL for positions
     * from..n-2 (NaN before from), no full logits.
     */
    private double[][] positionNllRows(CpuActivations a, int[][] tokens, int from) {
        int batch = a.batch(), n = a.seqLen(), dim = cfg.dim, vocab = cfg.vocabSize;
        double[][] out = new double[batch][n - 1];
        if (from > 0) for (double[] row : out) java.util.Arrays.fill(row, 0, Math.min(from, n - 1), Double.NaN);
        float[] normed = scratch.get(Buf.XB, LOGIT_ROWS * dim);
        float[] logits = scratch.get(Buf.LOGITS, LOGIT_ROWS * vocab);
        for (int s = 0; s < batch; s++) {
            for (int t0 = Math.max(0, from); t0 < n - 1; t0 += LOGIT_ROWS) {
                int cnt = Math.min(LOGIT_ROWS, n - 1 - t0);
                float[] h = headInput(sliceRows(a.data, s * n + t0, cnt, dim), cnt, normed, scratch.get(Buf.PROJ, LOGIT_ROWS * cfg.embedDim()));
                MatMul.apply(par, h, 0, cnt, lmHead, logits, 0, vocab, false);
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

    /**
     * What lm_head multiplies, for cnt hidden rows {@code in} [cnt][dim]: the final RMSNorm (LLaMA), or OPT's final
     * LayerNorm where it has one and then project_out where it has one ([cnt][word_embed_proj_dim]). Returns
     * {@code in}, {@code normed} or {@code projected}.
     */
    private float[] headInput(float[] in, int cnt, float[] normed, float[] projected) {
        int dim = cfg.dim;
        if (cfg.opt == null) {
            CpuOps.rmsnorm(par, in, finalNorm, cfg.normEps, normed, cnt, dim);
            return normed;
        }
        float[] h = in;
        if (finalNorm != null) {
            CpuOps.layerNorm(par, in, finalNorm, finalNormBias, cfg.normEps, normed, cnt, dim);
            h = normed;
        }
        if (projectOut == null) return h;
        matmul(projected, h, projectOut, cnt, cfg.embedDim());
        return projected;
    }

    private float[] sliceRows(float[] x, int row0, int cnt, int dim) {
        float[] s = scratch.get(Buf.ROWS, cnt * dim);
        System.arraycopy(x, row0 * dim, s, 0, cnt * dim);
        return s;
    }

    /** log sum_i e^v[i] over v[off .. off+len), shifted by the max; the exps summed as {@link VectorMath#sumExpShifted}. */
    static double logSumExp(float[] v, int off, int len) {
        float max = VectorMath.max(v, off, len);
        return max + Math.log(VectorMath.sumExpShifted(v, off, len, max));
    }

    private float[][] logitsOfRows(float[] x, int[] rowIdx) {
        int dim = cfg.dim, vocab = cfg.vocabSize;
        float[][] out = new float[rowIdx.length][];
        float[] in = new float[rowIdx.length * dim];
        for (int i = 0; i < rowIdx.length; i++) System.arraycopy(x, rowIdx[i] * dim, in, i * dim, dim);
        float[] h = headInput(in, rowIdx.length, new float[in.length], new float[rowIdx.length * cfg.embedDim()]);
        float[] flat = new float[rowIdx.length * vocab];
        MatMul.apply(par, h, 0, rowIdx.length, lmHead, flat, 0, vocab, false);
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
        ROWS,
        /** OPT's project_out of LOGIT_ROWS positions [LOGIT_ROWS][word_embed_proj_dim] */
        PROJ
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
