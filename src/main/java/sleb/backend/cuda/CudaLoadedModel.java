package sleb.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import sleb.backend.Activations;
import sleb.backend.Backend;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;

/**
 * A model on one CUDA device: the forward pass over its weights ({@link CudaWeights}, uploaded once, the
 * projections in the "GEMM dtype"). Hidden states stay fp32 [batch*seqLen][dim]; each GEMM reads its input
 * in the GEMM dtype (the norm / SwiGLU / convert kernel before it writes that type) and accumulates in
 * fp32. Kernels are launched through {@link CudaOps}. LLaMA-family blocks are {@link #block}; OPT's
 * (LayerNorm, biases, ReLU MLP, learned positions added at embedding time) are {@link #optBlock}, following
 * transformers' modeling_opt.py as {@link sleb.model.OptLayout} spells it out.
 */
final class CudaLoadedModel implements LoadedModel {
    private final CudaBackend backend;
    private final CudaDevice dev;
    private final ModelConfig cfg;
    final DType gemmType;
    private final int dim, hidden, qDim, kvDim, qkvDim, hd;
    /** Width of the token embedding and lm_head rows: dim, or OPT's word_embed_proj_dim. */
    private final int embedDim;
    private final boolean opt;
    private final float scale;
    private final CudaWeights w;
    private final double[] invFreq;
    private CUdeviceptr rope;
    private int ropeCap;
    /** Every RoPE table made, the outgrown ones included. */
    private final List<CUdeviceptr> ropeTables = new ArrayList<>();
    private boolean closed;

    /**
     * @param resident the blocks whose weights this device holds (null: all). A model split across GPUs
     *                 loads one part per device; each part also holds the embedding, final norm and lm_head.
     */
    CudaLoadedModel(CudaBackend backend, CudaDevice dev, Model model, boolean[] resident) {
        this.backend = backend;
        this.dev = dev;
        this.cfg = model.config();
        if (cfg.headDim > Kernels.MAX_HEAD_DIM)
            throw new sleb.util.UsageException("head_dim " + cfg.headDim + " is above the " + Kernels.MAX_HEAD_DIM + " the CUDA attention kernels support; use --device cpu");
        dim = cfg.dim;
        hidden = cfg.hiddenDim;
        qDim = cfg.qDim();
        kvDim = cfg.kvDim();
        qkvDim = qDim + 2 * kvDim;
        hd = cfg.headDim;
        embedDim = cfg.embedDim();
        opt = cfg.isOpt();
        scale = (float) (1.0 / Math.sqrt(hd));
        invFreq = cfg.ropeInvFreq();
        w = new CudaWeights(dev, model, resident);
        gemmType = w.gemmType;
        try {
            dev.allowSharedMemory("attention_prefill", Kernels.prefillSmemBytes(hd));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Makes the (cos, sin) table cover positions [0, positions), grown to the next power of two. An
     * outgrown table is kept until close: a captured decode graph may still read it. OPT has no RoPE: its
     * learned position table is fixed, so this only checks that it has a row for every position.
     *
     * @throws IllegalArgumentException for OPT, when positions exceed max_position_embeddings
     */
    void ensureRope(int positions) {
        if (opt) { // learned positions: the table is fixed; a graph must never read past it
            if (positions > cfg.maxSeqLen) throw tooManyPositions(positions);
            return;
        }
        if (positions > ropeCap) {
            int cap = Math.max(64, Integer.highestOneBit(Math.max(1, positions - 1)) << 1);
            int half = hd / 2;
            float[] cs = new float[cap * half * 2];
            for (int p = 0; p < cap; p++)
                for (int i = 0; i < half; i++) {
                    double a = p * invFreq[i];
                    cs[(p * half + i) * 2] = (float) Math.cos(a);
                    cs[(p * half + i) * 2 + 1] = (float) Math.sin(a);
                }
            rope = dev.uploadFloats(cs, "RoPE table");
            ropeTables.add(rope);
            ropeCap = cap;
        }
    }

    private IllegalArgumentException tooManyPositions(int positions) {
        return new IllegalArgumentException(positions + " positions exceed this OPT model's " + cfg.maxSeqLen
                + " learned position embeddings (max_position_embeddings); use a shorter sequence");
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("model was closed");
        dev.makeCurrent();
    }

    CudaActivations act(Activations x) {
        if (!(x instanceof CudaActivations) || ((CudaActivations) x).device != dev)
            throw new IllegalArgumentException("activations do not belong to this CUDA device");
        return (CudaActivations) x;
    }

    @Override public ModelConfig config() { return cfg; }
    @Override public Backend backend() { return backend; }

    // ---- forward ----------------------------------------------------------------------------------

    @Override
    public Activations embed(int[][] tokens) { return embed(tokens, 0); }

    /** Embeddings of tokens [batch][n] at positions pos0..pos0+n-1 (only OPT's learned positions depend on pos0). */
    @Override
    public Activations embed(int[][] tokens, int pos0) {
        checkOpen();
        int B = tokens.length;
        if (B == 0) throw new IllegalArgumentException("empty batch");
        int T = tokens[0].length;
        int[] ids = new int[B * T];
        for (int b = 0; b < B; b++) {
            if (tokens[b].length != T) throw new IllegalArgumentException("all sequences of a batch must have the same length");
            for (int t = 0; t < T; t++) {
                ids[b * T + t] = checkToken(tokens[b][t]);
            }
        }
        if (opt && pos0 + T > cfg.maxSeqLen) throw tooManyPositions(pos0 + T);
        CudaActivations x = new CudaActivations(dev, B, T, dim);
        CUdeviceptr d = null;
        Workspace ws = null;
        try {
            d = dev.uploadInts(ids, "token ids");
            if (w.projectIn != null) ws = new Workspace(B * T);
            embedInto(d, B, T, pos0, CudaDevice.NULL, x.ptr(), ws);
        } catch (RuntimeException e) {
            x.close();
            throw e;
        } finally {
            dev.free(d);
            if (ws != null) ws.close();
        }
        return x;
    }

    /** The id, if the embedding table has a row for it: the kernel would read any index it is given. */
    int checkToken(int id) {
        if (id < 0 || id >= cfg.vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + cfg.vocabSize + ")");
        return id;
    }

    /**
     * Launch only: rows [B*T][dim] fp32 at out = embeddings of the B*T token ids at ids (device), positions
     * pos0 + *posDev + t. OPT: embed_tokens [embedDim], project_in where present (through ws.tmp, and ws.xn for a
     * 16-bit GEMM), then + embed_positions[pos + 2]. ws may be null where there is no project_in.
     */
    void embedInto(CUdeviceptr ids, int B, int T, int pos0, CUdeviceptr posDev, CUdeviceptr out, Workspace ws) {
        int n = B * T;
        if (n == 0) return;
        if (w.projectIn == null) {
            CudaOps.embedding(dev, w.embedType, ids, w.embedding, out, n, dim);
        } else {
            CudaOps.embedding(dev, w.embedType, ids, w.embedding, ws.tmp, n, embedDim);
            dev.gemm(gemmType, gemmInput(ws.tmp, ws.xn, (long) n * embedDim), w.projectIn, out, n, dim, embedDim, 0f);
        }
        if (opt) CudaOps.positionEmbeddingAdd(dev, w.positionType, out, w.positions, B, T, pos0, posDev, OptLayout.POSITION_OFFSET, dim);
    }

    /** Launch only: fp32 rows at src as a GEMM input: src itself for an fp32 GEMM, else converted into dst (n elements). */
    private CUdeviceptr gemmInput(CUdeviceptr src, CUdeviceptr dst, long n) {
        if (gemmType == DType.F32) return src;
        CudaOps.f32To(dev, gemmType, src, dst, n);
        return dst;
    }

    /** Launch only: logits [n][vocab] fp32 of hidden rows [n][dim] at x, through the final norm (ws.xn, and ws.tmp for OPT's project_out). */
    void logitsInto(CUdeviceptr x, int n, Workspace ws, CUdeviceptr logits) {
        CUdeviceptr h = headInputInto(x, n, ws.xn, ws.tmp);
        dev.gemm(gemmType, h, w.lmHead, logits, n, cfg.vocabSize, embedDim, 0f);
    }

    @Override
    public void runBlock(int layer, Activations x) {
        checkOpen();
        CudaActivations a = act(x);
        if (a.rows() == 0) return;
        ensureRope(a.seqLen());
        try (Workspace ws = new Workspace(a.rows())) {
            block(layer, a, a.batch(), a.seqLen(), 0, CudaDevice.NULL, null, ws);
        }
    }

    /** The KV cache of one block in a decode session: [batch][maxLen][kvDim] fp32 for K and for V. */
    static final class KvCache {
        CUdeviceptr k, v;
        int maxLen;
    }

    /**
     * The scratch buffers of one block call on up to {@code rows} rows, taken from the device pool. OPT also uses
     * xn and tmp, which are at least embedDim wide, for project_in and project_out; gu holds fc1's output and sw its ReLU.
     */
    final class Workspace implements AutoCloseable {
        final int rows;
        final CUdeviceptr xn, qkv, att, tmp, gu, sw;

        Workspace(int rows) {
            this.rows = rows;
            long ab = gemmType.bytes;
            int wide = Math.max(dim, embedDim);
            CUdeviceptr[] p = new CUdeviceptr[6];
            try {
                p[0] = dev.alloc(rows * (long) Math.max(wide, qDim) * ab, "normalised hidden states");
                p[1] = dev.alloc(4L * rows * qkvDim, "q/k/v");
                p[2] = dev.alloc(4L * rows * qDim, "attention output");
                p[3] = dev.alloc(4L * rows * wide, "o_proj output");
                p[4] = dev.alloc(4L * rows * (opt ? 1 : 2) * hidden, opt ? "fc1 output" : "gate/up");
                p[5] = dev.alloc(ab * rows * hidden, opt ? "ReLU output" : "SwiGLU output");
            } catch (RuntimeException e) {
                for (CUdeviceptr q : p) dev.free(q);
                throw e;
            }
            xn = p[0]; qkv = p[1]; att = p[2]; tmp = p[3]; gu = p[4]; sw = p[5];
        }

        @Override
        public void close() {
            dev.free(xn); dev.free(qkv); dev.free(att); dev.free(tmp); dev.free(gu); dev.free(sw);
        }
    }

    /**
     * One block on rows [B*T] whose positions start at pos0 + *posDev (posDev may be {@link CudaDevice#NULL}).
     * With a cache, the new K/V rows are appended to it and attention reads the cache; without, K/V come
     * from this call. Only launches: no allocation or copy, so a decode step can be captured in a graph
     * (the RoPE table must already cover the positions).
     */
    void block(int layer, CudaActivations x, int B, int T, int pos0, CUdeviceptr posDev, KvCache cache, Workspace ws) {
        if (layer < 0 || layer >= cfg.nLayers) throw new IllegalArgumentException("block " + layer + " does not exist (0.." + (cfg.nLayers - 1) + ")");
        if (!w.holds(layer)) throw new IllegalStateException("block " + layer + " is not resident on cuda:" + dev.ordinal);
        int N = B * T;
        if (N == 0) return;
        if (N > ws.rows) throw new IllegalArgumentException("workspace holds " + ws.rows + " rows, block call has " + N);
        if (opt) {
            optBlock(layer, x, B, T, pos0, posDev, cache, ws);
            return;
        }
        if (posDev == CudaDevice.NULL && pos0 + T > ropeCap) throw new IllegalStateException("RoPE table covers " + ropeCap + " positions, not " + (pos0 + T));
        CUdeviceptr xp = x.ptr(), xn = ws.xn, tmp = ws.tmp, gu = ws.gu, sw = ws.sw;
        float eps = cfg.normEps;
        // attention: xn = norm(x); qkv = xn W_qkv (+ bias); RoPE on q, k; attention; o_proj into tmp
        CudaOps.rmsnorm(dev, gemmType, xp, w.inputNorm[layer], xn, N, dim, eps);
        CUdeviceptr attIn = attention(layer, xn, B, T, pos0, posDev, cache, ws);
        dev.gemm(gemmType, attIn, w.o[layer], tmp, N, dim, qDim, 0f);
        // x += o; xn = norm(x)
        CudaOps.rmsnormResidual(dev, gemmType, xp, tmp, w.postNorm[layer], xn, N, dim, eps);
        // MLP: x += down(silu(gate) * up)
        dev.gemm(gemmType, xn, w.gateUp[layer], gu, N, 2 * hidden, dim, 0f);
        CudaOps.swiglu(dev, gemmType, gu, sw, N, hidden);
        dev.gemm(gemmType, sw, w.down[layer], xp, N, dim, hidden, 1f);
    }

    /**
     * Launch only: the attention of block {@code layer} on its GEMM-dtype input rows in [B*T][dim]: q|k|v GEMM (+ bias),
     * RoPE (not for OPT), the cache append, causal attention with scale head_dim^-0.5 (for OPT this is its q scaling,
     * applied to q after its bias). Returns the attention output [B*T][qDim] as the o_proj GEMM's input (ws.att, or
     * ws.xn converted to the GEMM dtype; in is dead by then).
     */
    private CUdeviceptr attention(int layer, CUdeviceptr in, int B, int T, int pos0, CUdeviceptr posDev, KvCache cache, Workspace ws) {
        int N = B * T;
        CUdeviceptr qkv = ws.qkv, att = ws.att;
        dev.gemm(gemmType, in, w.qkv[layer], qkv, N, qkvDim, dim, 0f);
        if (w.qkvBias[layer] != null) CudaOps.addBias(dev, qkv, w.qkvBias[layer], N, qkvDim, qkvDim);
        if (!opt) CudaOps.rope(dev, cfg.ropeStyle, qkv, rope, B, T, pos0, posDev, qkvDim, cfg.nHeads, cfg.nKvHeads, hd);
        // keys and values: this call's rows, or the cache after appending them to it
        CUdeviceptr kp = qkv.withByteOffset(4L * qDim), vp = qkv.withByteOffset(4L * (qDim + kvDim));
        int kvRow = qkvDim;
        long kvBatch = (long) T * qkvDim;
        if (cache != null) {
            CudaOps.kvAppend(dev, qkv, qkvDim, qDim, qDim + kvDim, cache.k, cache.v, B, T, pos0, posDev, cache.maxLen, kvDim);
            kp = cache.k;
            vp = cache.v;
            kvRow = kvDim;
            kvBatch = (long) cache.maxLen * kvDim;
        }
        int window = cfg.slidingWindow(layer); // the original layer's, whichever blocks run
        if (cache != null && T == 1) {
            CudaOps.attentionDecode(dev, qkv, qkvDim, kp, vp, kvRow, kvBatch, att, qDim, B, pos0 + 1, posDev, cfg.nHeads, cfg.nKvHeads, hd, scale, window);
        } else {
            if (posDev != CudaDevice.NULL) throw new IllegalArgumentException("prefill attention takes its position from the host");
            CudaOps.attentionPrefill(dev, qkv, qkvDim, kp, vp, kvRow, kvBatch, att, qDim, B, T, pos0, cfg.nHeads, cfg.nKvHeads, hd, scale, window);
        }
        return gemmInput(att, ws.xn, (long) N * qDim);
    }

    /**
     * One OPT block (OPTDecoderLayer), launches only, on x [B*T][dim] in place. Pre-LN (do_layer_norm_before):
     * x += out_proj(attn(LN1(x))) + b_o; x += fc2(relu(fc1(LN2(x)) + b_1)) + b_2. Post-LN (350m):
     * x = LN1(x + out_proj(attn(x)) + b_o); x = LN2(x + fc2(relu(fc1(x) + b_1)) + b_2), the LayerNorms in place in fp32.
     * The residual adds are the GEMMs' beta = 1, their biases add_bias after them.
     */
    private void optBlock(int layer, CudaActivations x, int B, int T, int pos0, CUdeviceptr posDev, KvCache cache, Workspace ws) {
        int N = B * T;
        CUdeviceptr xp = x.ptr(), xn = ws.xn;
        float eps = cfg.normEps;
        boolean pre = cfg.opt.layerNormBefore;
        long n = (long) N * dim;
        // attention
        CUdeviceptr in = xn;
        if (pre) CudaOps.layernorm(dev, gemmType, xp, w.inputNorm[layer], w.inputNormBias[layer], xn, N, dim, eps);
        else in = gemmInput(xp, xn, n);
        CUdeviceptr attIn = attention(layer, in, B, T, pos0, posDev, cache, ws);
        dev.gemm(gemmType, attIn, w.o[layer], xp, N, dim, qDim, 1f);
        CudaOps.addBias(dev, xp, w.oBias[layer], N, dim, dim);
        // MLP
        if (pre) {
            CudaOps.layernorm(dev, gemmType, xp, w.postNorm[layer], w.postNormBias[layer], xn, N, dim, eps);
            in = xn;
        } else {
            CudaOps.layernorm(dev, DType.F32, xp, w.inputNorm[layer], w.inputNormBias[layer], xp, N, dim, eps);
            in = gemmInput(xp, xn, n);
        }
        dev.gemm(gemmType, in, w.gateUp[layer], ws.gu, N, hidden, dim, 0f);
        CudaOps.biasRelu(dev, gemmType, ws.gu, w.fc1Bias[layer], ws.sw, N, hidden);
        dev.gemm(gemmType, ws.sw, w.down[layer], xp, N, dim, hidden, 1f);
        CudaOps.addBias(dev, xp, w.fc2Bias[layer], N, dim, dim);
        if (!pre) CudaOps.layernorm(dev, DType.F32, xp, w.postNorm[layer], w.postNormBias[layer], xp, N, dim, eps);
    }

    /** Rows per lm_head chunk: at most ~256 MiB of fp32 logits at a time. */
    private int chunkRows(int n) { return (int) Math.max(1, Math.min(n, (256L << 20) / (4L * cfg.vocabSize))); }

    /** The buffers {@link #headInputInto} needs for n rows: xn (GEMM dtype), and for OPT's project_out an fp32 scratch. */
    private CUdeviceptr[] headBuffers(int n) {
        CUdeviceptr[] b = new CUdeviceptr[2];
        b[0] = dev.alloc((long) n * Math.max(dim, embedDim) * gemmType.bytes, "final norm output");
        try {
            if (w.projectOut != null) b[1] = dev.alloc(4L * n * embedDim, "project_out output");
        } catch (RuntimeException e) {
            dev.free(b[0]);
            throw e;
        }
        return b;
    }

    /**
     * Launch only: the lm_head GEMM's input [n][embedDim] (GEMM dtype) from hidden rows [n][dim] at src: the final
     * norm (RMSNorm, or OPT's LayerNorm where the model has one) into xn; OPT's project_out through scratch (fp32,
     * n*embedDim) where present. Returns xn, or for an fp32 GEMM possibly src or scratch themselves.
     */
    private CUdeviceptr headInputInto(CUdeviceptr src, int n, CUdeviceptr xn, CUdeviceptr scratch) {
        CUdeviceptr h;
        if (!opt) {
            CudaOps.rmsnorm(dev, gemmType, src, w.finalNorm, xn, n, dim, cfg.normEps);
            h = xn;
        } else if (w.finalNorm != null) {
            CudaOps.layernorm(dev, gemmType, src, w.finalNorm, w.finalNormBias, xn, n, dim, cfg.normEps);
            h = xn;
        } else {
            h = gemmInput(src, xn, (long) n * dim);
        }
        if (w.projectOut == null) return h;
        dev.gemm(gemmType, h, w.projectOut, scratch, n, embedDim, dim, 0f);
        return gemmInput(scratch, xn, (long) n * embedDim);
    }

    @Override
    public double[] nll(Activations x, int[][] tokens) {
        int T = x.seqLen();
        double[] rowNll = rowNll(x, tokens);
        double[] out = new double[x.batch()];
        for (int b = 0; b < out.length; b++)
            for (int t = 0; t + 1 < T; t++) out[b] += rowNll[b * T + t];
        return out;
    }

    @Override
    public float[][] positionNll(Activations x, int[][] tokens) {
        int T = x.seqLen();
        double[] rowNll = rowNll(x, tokens);
        float[][] out = new float[x.batch()][Math.max(0, T - 1)];
        for (int b = 0; b < out.length; b++)
            for (int t = 0; t + 1 < T; t++) out[b][t] = (float) rowNll[b * T + t];
        return out;
    }

    /** NLL of tokens[b][t+1] at every row b*T+t (the last row of each sequence has no target): logits never leave the chip whole. */
    private double[] rowNll(Activations x, int[][] tokens) {
        checkOpen();
        CudaActivations a = act(x);
        int B = a.batch(), T = a.seqLen(), N = B * T, V = cfg.vocabSize;
        if (tokens.length != B) throw new IllegalArgumentException("tokens has " + tokens.length + " sequences, activations " + B);
        int[] target = new int[N];
        for (int b = 0; b < B; b++) {
            if (tokens[b].length != T) throw new IllegalArgumentException("token rows must have seqLen " + T);
            for (int t = 0; t < T; t++) target[b * T + t] = t + 1 < T ? tokens[b][t + 1] : -1;
        }
        if (N == 0) return new double[0];
        int rows = chunkRows(N);
        CUdeviceptr[] hb = headBuffers(N);
        CUdeviceptr tg = null, per = null, logits = null;
        try {
            CUdeviceptr h = headInputInto(a.ptr(), N, hb[0], hb[1]);
            tg = dev.uploadInts(target, "targets");
            per = dev.alloc(8L * N, "per-row NLL");
            logits = dev.alloc(4L * rows * V, "logits chunk [" + rows + " x " + V + "]");
            for (int r0 = 0; r0 < N; r0 += rows) {
                int n = Math.min(rows, N - r0);
                dev.gemm(gemmType, h.withByteOffset((long) r0 * embedDim * gemmType.bytes), w.lmHead, logits, n, V, embedDim, 0f);
                CudaOps.nllRows(dev, logits, tg.withByteOffset(4L * r0), per.withByteOffset(8L * r0), n, V);
            }
            return dev.downloadDoubles(per, N);
        } finally {
            dev.free(hb[0]); dev.free(hb[1]); dev.free(tg); dev.free(per); dev.free(logits);
        }
    }

    /** Logits of rows [n][dim] (fp32 hidden states at src) as [n][vocab]. */
    private float[][] logitsOf(CUdeviceptr src, int n) {
        int V = cfg.vocabSize;
        float[][] out = new float[n][];
        int rows = chunkRows(n);
        CUdeviceptr[] hb = headBuffers(n);
        CUdeviceptr logits = null;
        try {
            CUdeviceptr h = headInputInto(src, n, hb[0], hb[1]);
            logits = dev.alloc(4L * rows * V, "logits chunk [" + rows + " x " + V + "]");
            for (int r0 = 0; r0 < n; r0 += rows) {
                int m = Math.min(rows, n - r0);
                dev.gemm(gemmType, h.withByteOffset((long) r0 * embedDim * gemmType.bytes), w.lmHead, logits, m, V, embedDim, 0f);
                float[] flat = dev.downloadFloats(logits, m * V);
                for (int i = 0; i < m; i++) out[r0 + i] = java.util.Arrays.copyOfRange(flat, i * V, (i + 1) * V);
            }
            return out;
        } finally {
            dev.free(hb[0]);
            dev.free(hb[1]);
            dev.free(logits);
        }
    }

    @Override
    public float[][] lastLogits(Activations x) {
        checkOpen();
        CudaActivations a = act(x);
        int B = a.batch(), T = a.seqLen();
        if (T == 0) throw new IllegalArgumentException("no positions");
        if (T == 1) return logitsOf(a.ptr(), B); // the last rows are all the rows
        CUdeviceptr last = dev.alloc(4L * B * dim, "last hidden states");
        try {
            for (int b = 0; b < B; b++)
                dev.copy(last.withByteOffset(4L * b * dim), a.ptr().withByteOffset(4L * ((long) b * T + T - 1) * dim), 4L * dim);
            return logitsOf(last, B);
        } finally {
            dev.free(last);
        }
    }

    @Override
    public Activations copy(Activations x) {
        checkOpen();
        CudaActivations a = act(x);
        CudaActivations c = new CudaActivations(dev, a.batch(), a.seqLen(), a.dim());
        dev.copy(c.ptr(), a.ptr(), a.bytes());
        return c;
    }

    @Override
    public Activations fromHost(float[] data, int batch, int seqLen) {
        checkOpen();
        if (data.length != batch * seqLen * dim) throw new IllegalArgumentException("host data has " + data.length + " floats, not batch x seqLen x dim");
        CudaActivations c = new CudaActivations(dev, batch, seqLen, dim);
        dev.upload(c.ptr(), jcuda.Pointer.to(data), 4L * data.length);
        return c;
    }

    @Override
    public double[] cosineSum(Activations x, Activations y) {
        checkOpen();
        CudaActivations a = act(x), b = act(y);
        if (a.batch() != b.batch() || a.seqLen() != b.seqLen() || a.dim() != b.dim())
            throw new IllegalArgumentException("cosineSum of activations with different shapes");
        int B = a.batch(), T = a.seqLen(), N = B * T;
        double[] out = new double[B];
        if (N == 0) return out;
        CUdeviceptr per = dev.alloc(8L * N, "per-row cosine");
        try {
            CudaOps.cosineRows(dev, a.ptr(), b.ptr(), per, N, dim);
            double[] c = dev.downloadDoubles(per, N);
            for (int i = 0; i < N; i++) out[i / T] += c[i];
            return out;
        } finally {
            dev.free(per);
        }
    }

    @Override
    public long defaultCacheBytes() {
        checkOpen();
        return dev.memInfo()[0] / 2;
    }

    /** Free device memory: activations live on the GPU. */
    @Override
    public long freeWorkingBytes() {
        checkOpen();
        return dev.memInfo()[0];
    }

    @Override public long freeWorkingBytesAfterCollection() { return freeWorkingBytes(); }

    @Override public String freeWorkingBytesHint() { return ", or split the blocks over more GPUs (--device cuda:0,1)"; }

    @Override
    public DecodeSession newSession(int batch, int maxLen, int[] blocks) {
        checkOpen();
        return new CudaDecodeSession(this, dev, batch, maxLen, blocks, CudaDecodeSession.graphsByDefault());
    }

    /** A session whose one-token steps replay a CUDA graph (graphs) or launch eagerly: tests compare the two. */
    CudaDecodeSession newSession(int batch, int maxLen, int[] blocks, boolean graphs) {
        checkOpen();
        return new CudaDecodeSession(this, dev, batch, maxLen, blocks, graphs);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        dev.makeCurrent();
        w.release();
        for (CUdeviceptr p : ropeTables) dev.release(p);
        ropeTables.clear();
        rope = null;
    }
}
