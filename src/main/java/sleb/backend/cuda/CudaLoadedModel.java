package sleb.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.backend.Activations;
import sleb.backend.Backend;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.DType;
import sleb.model.FiniteWeights;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.Tensor;

/**
 * A model on one CUDA device. Weights are uploaded once: the projection matrices in the model's
 * storage dtype (the "GEMM dtype": bf16, fp16 or fp32; a matrix stored otherwise is converted to it),
 * q|k|v and gate|up concatenated so that each pair/triple is one GEMM, norms and biases in fp32.
 * Hidden states stay fp32; each GEMM reads its input in the GEMM dtype (the norm / SwiGLU / convert
 * kernel before it writes that type) and accumulates in fp32.
 */
final class CudaLoadedModel implements LoadedModel {
    private final CudaBackend backend;
    private final CudaDevice dev;
    private final ModelConfig cfg;
    final DType gemmType;
    private final String sfx;
    private final int dim, hidden, qDim, kvDim, qkvDim, hd;
    private final float scale;
    private final CUdeviceptr[] wqkv, wo, wgu, wdown, normIn, normPost, bqkv;
    private final CUdeviceptr embed, lmHead, finalNorm;
    private final DType embedType;
    private final double[] invFreq;
    private CUdeviceptr rope;
    private int ropeCap;
    private final List<CUdeviceptr> owned = new ArrayList<>();
    private final boolean[] resident;
    private boolean closed;

    /**
     * @param resident the blocks whose weights this device holds (null: all). A model split across GPUs
     *                 loads one part per device; each part also holds the embedding, final norm and lm_head.
     */
    CudaLoadedModel(CudaBackend backend, CudaDevice dev, Model model, boolean[] resident) {
        this.backend = backend;
        this.resident = resident;
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
        scale = (float) (1.0 / Math.sqrt(hd));
        gemmType = cfg.nLayers > 0 ? model.tensor(Model.layer(0, "self_attn.q_proj.weight")).dtype() : model.lmHead().dtype();
        sfx = CudaDevice.suffix(gemmType);
        invFreq = cfg.ropeInvFreq();
        embedType = model.embedding().dtype();

        long need = estimateBytes(model);
        long[] info = dev.memInfo();
        if (need > info[0])
            throw new CudaOutOfMemoryException("cuda:" + dev.ordinal + " " + dev.name, "the model's weights (" + gemmType + ")", need, info[0], info[1]);

        int L = cfg.nLayers;
        wqkv = new CUdeviceptr[L]; wo = new CUdeviceptr[L]; wgu = new CUdeviceptr[L]; wdown = new CUdeviceptr[L];
        normIn = new CUdeviceptr[L]; normPost = new CUdeviceptr[L]; bqkv = new CUdeviceptr[L];
        try {
            for (int i = 0; i < L; i++) {
                if (!holds(i)) continue;
                wqkv[i] = matrix(gemmType, dim, "block " + i + " q/k/v weights", t(model, i, "self_attn.q_proj.weight"),
                        t(model, i, "self_attn.k_proj.weight"), t(model, i, "self_attn.v_proj.weight"));
                wo[i] = matrix(gemmType, qDim, "block " + i + " o_proj", t(model, i, "self_attn.o_proj.weight"));
                wgu[i] = matrix(gemmType, dim, "block " + i + " gate/up", t(model, i, "mlp.gate_proj.weight"), t(model, i, "mlp.up_proj.weight"));
                wdown[i] = matrix(gemmType, hidden, "block " + i + " down_proj", t(model, i, "mlp.down_proj.weight"));
                normIn[i] = vector("block " + i + " input norm", t(model, i, "input_layernorm.weight"));
                normPost[i] = vector("block " + i + " post-attention norm", t(model, i, "post_attention_layernorm.weight"));
                if (cfg.qkvBias)
                    bqkv[i] = vector("block " + i + " q/k/v bias", t(model, i, "self_attn.q_proj.bias"),
                            t(model, i, "self_attn.k_proj.bias"), t(model, i, "self_attn.v_proj.bias"));
            }
            embed = matrix(embedType, dim, "embedding table", model.embedding());
            lmHead = cfg.tiedEmbeddings && embedType == gemmType ? embed : matrix(gemmType, dim, "lm_head", model.lmHead());
            finalNorm = vector("final norm", model.finalNorm());
            dev.allowSharedMemory("attention_prefill", Kernels.prefillSmemBytes(hd));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private boolean holds(int layer) { return resident == null || resident[layer]; }

    private static Tensor t(Model m, int layer, String suffix) { return m.tensor(Model.layer(layer, suffix)); }

    private long estimateBytes(Model m) {
        long perBlock = (long) gemmType.bytes * (qkvDim * (long) dim + (long) dim * qDim + 3L * dim * hidden) + 4L * (2 * dim + qkvDim);
        long e = (long) cfg.vocabSize * dim;
        long head = cfg.tiedEmbeddings && embedType == gemmType ? 0 : e * gemmType.bytes;
        int blocks = 0;
        for (int i = 0; i < cfg.nLayers; i++) if (holds(i)) blocks++;
        return perBlock * blocks + e * embedType.bytes + head + 4L * dim;
    }

    /** Uploads the row-wise concatenation of {@code parts} ([rows][cols] each) as dtype t. */
    private CUdeviceptr matrix(DType t, int cols, String what, Tensor... parts) {
        long rows = 0;
        for (Tensor p : parts) {
            if (p.rank() != 2 || p.cols() != cols)
                throw new IllegalArgumentException(p.name() + " has shape " + java.util.Arrays.toString(p.shape()) + ", expected [*, " + cols + "]");
            rows += p.rows();
        }
        CUdeviceptr d = dev.alloc(rows * cols * t.bytes, what);
        owned.add(d);
        int batchRows = (int) Math.max(1, Math.min(Integer.MAX_VALUE / 8, (8L << 20) / ((long) cols * t.bytes)));
        long dstRow = 0;
        float[] f = new float[batchRows * cols];
        short[] s = t == DType.F32 ? null : new short[batchRows * cols];
        for (Tensor p : parts) {
            for (long r0 = 0; r0 < p.rows(); r0 += batchRows) {
                int n = (int) Math.min(batchRows, p.rows() - r0);
                Pointer src;
                if (t == DType.F32) {
                    for (int r = 0; r < n; r++) p.rowToFloat(r0 + r, 0, f, r * cols, cols);
                    FiniteWeights.check(p, r0, f, 0, n * cols);
                    src = Pointer.to(f);
                } else if (p.dtype() == t) {
                    for (int r = 0; r < n; r++) p.rowBits(r0 + r, 0, s, r * cols, cols);
                    FiniteWeights.check(p, t, r0, s, 0, n * cols);
                    src = Pointer.to(s);
                } else {
                    for (int r = 0; r < n; r++) p.rowToFloat(r0 + r, 0, f, r * cols, cols);
                    FiniteWeights.check(p, r0, f, 0, n * cols);
                    for (int i = 0; i < n * cols; i++) s[i] = t == DType.BF16 ? DType.floatToBf16(f[i]) : DType.floatToF16(f[i]);
                    FiniteWeights.checkNarrowed(p, t, r0, s, 0, n * cols, "the CUDA backend runs this model's matrix products in");
                    src = Pointer.to(s);
                }
                dev.upload(d.withByteOffset(dstRow * cols * t.bytes), src, (long) n * cols * t.bytes);
                dstRow += n;
            }
        }
        return d;
    }

    /** Uploads the concatenation of 1-D tensors as fp32. */
    private CUdeviceptr vector(String what, Tensor... parts) {
        int n = 0;
        for (Tensor p : parts) n += (int) p.numel();
        float[] all = new float[n];
        int off = 0;
        for (Tensor p : parts) {
            float[] v = FiniteWeights.floats(p);
            System.arraycopy(v, 0, all, off, v.length);
            off += v.length;
        }
        CUdeviceptr d = dev.uploadFloats(all, what);
        owned.add(d);
        return d;
    }

    /**
     * Makes the (cos, sin) table cover positions [0, positions), grown to the next power of two. An
     * outgrown table is kept until close: a captured decode graph may still read it.
     */
    void ensureRope(int positions) {
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
            owned.add(rope);
            ropeCap = cap;
        }
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
    public Activations embed(int[][] tokens) {
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
        CudaActivations x = new CudaActivations(dev, B, T, dim);
        CUdeviceptr d = dev.uploadInts(ids, "token ids");
        try {
            embedInto(d, B * T, x.ptr());
        } finally {
            dev.free(d);
        }
        return x;
    }

    /** The id, if the embedding table has a row for it: the kernel would read any index it is given. */
    int checkToken(int id) {
        if (id < 0 || id >= cfg.vocabSize) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + cfg.vocabSize + ")");
        return id;
    }

    /** Launch only: rows [n][dim] fp32 at out = embeddings of the n token ids at ids (device). */
    void embedInto(CUdeviceptr ids, int n, CUdeviceptr out) {
        if (n > 0) dev.launch("embedding_" + CudaDevice.suffix(embedType), n, 1, 1, 256, 1, 0, ids, embed, out, dim);
    }

    /** Launch only: logits [n][vocab] fp32 of hidden rows [n][dim] at x, through the final norm (into xn, n*dim GEMM-dtype elements). */
    void logitsInto(CUdeviceptr x, int n, CUdeviceptr xn, CUdeviceptr logits) {
        finalNormInto(x, n, xn);
        dev.gemm(gemmType, xn, lmHead, logits, n, cfg.vocabSize, dim, 0f);
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

    /** The scratch buffers of one block call on up to {@code rows} rows, taken from the device pool. */
    final class Workspace implements AutoCloseable {
        final int rows;
        final CUdeviceptr xn, qkv, att, tmp, gu, sw;

        Workspace(int rows) {
            this.rows = rows;
            long ab = gemmType.bytes;
            CUdeviceptr[] p = new CUdeviceptr[6];
            try {
                p[0] = dev.alloc(rows * (long) Math.max(dim, qDim) * ab, "normalised hidden states");
                p[1] = dev.alloc(4L * rows * qkvDim, "q/k/v");
                p[2] = dev.alloc(4L * rows * qDim, "attention output");
                p[3] = dev.alloc(4L * rows * dim, "o_proj output");
                p[4] = dev.alloc(4L * rows * 2 * hidden, "gate/up");
                p[5] = dev.alloc(ab * rows * hidden, "SwiGLU output");
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
        if (!holds(layer)) throw new IllegalStateException("block " + layer + " is not resident on cuda:" + dev.ordinal);
        int N = B * T;
        if (N == 0) return;
        if (N > ws.rows) throw new IllegalArgumentException("workspace holds " + ws.rows + " rows, block call has " + N);
        if (posDev == CudaDevice.NULL && pos0 + T > ropeCap) throw new IllegalStateException("RoPE table covers " + ropeCap + " positions, not " + (pos0 + T));
        CUdeviceptr xp = x.ptr(), xn = ws.xn, qkv = ws.qkv, att = ws.att, tmp = ws.tmp, gu = ws.gu, sw = ws.sw;
        dev.launch("rmsnorm_" + sfx, N, 1, 1, 256, 1, 0, xp, normIn[layer], xn, dim, cfg.normEps);
        dev.gemm(gemmType, xn, wqkv[layer], qkv, N, qkvDim, dim, 0f);
        if (bqkv[layer] != null) dev.launchElementwise("add_bias", (long) N * qkvDim, qkv, bqkv[layer], N, qkvDim, qkvDim);
        dev.launch(cfg.ropeStyle == sleb.model.RopeStyle.HALF ? "rope_half" : "rope_adjacent", N, 1, 1, 128, 1, 0,
                qkv, rope, T, pos0, posDev, qkvDim, cfg.nHeads, cfg.nKvHeads, hd);
        CUdeviceptr kp = qkv.withByteOffset(4L * qDim), vp = qkv.withByteOffset(4L * (qDim + kvDim));
        int kvRow = qkvDim;
        long kvBatch = (long) T * qkvDim;
        if (cache != null) {
            dev.launch("kv_append", N, 1, 1, 128, 1, 0, qkv, qkvDim, qDim, qDim + kvDim, cache.k, cache.v, T, pos0, posDev, cache.maxLen, kvDim);
            kp = cache.k;
            vp = cache.v;
            kvRow = kvDim;
            kvBatch = (long) cache.maxLen * kvDim;
        }
        int window = cfg.slidingWindow(layer); // the original layer's, whichever blocks run
        if (cache != null && T == 1) {
            dev.launch("attention_decode", cfg.nHeads, B, 1, 32 * Kernels.DECODE_WARPS, 1, Kernels.decodeSmemBytes(hd),
                    qkv, qkvDim, kp, vp, kvRow, kvBatch, att, qDim, pos0 + 1, posDev, cfg.nHeads, cfg.nKvHeads, hd, scale, window);
        } else {
            if (posDev != CudaDevice.NULL) throw new IllegalArgumentException("prefill attention takes its position from the host");
            dev.launch("attention_prefill", (T + Kernels.PREFILL_BR - 1) / Kernels.PREFILL_BR, cfg.nHeads, B, 32 * Kernels.PREFILL_BR, 1,
                    Kernels.prefillSmemBytes(hd), qkv, qkvDim, kp, vp, kvRow, kvBatch, att, qDim, T, pos0, cfg.nHeads, cfg.nKvHeads, hd, scale, window);
        }
        CUdeviceptr attIn = att;
        if (gemmType != DType.F32) {
            dev.launchElementwise("f32_to_" + sfx, (long) N * qDim, att, xn, (long) N * qDim);
            attIn = xn;
        }
        dev.gemm(gemmType, attIn, wo[layer], tmp, N, dim, qDim, 0f);
        // x += o_proj(...); xn = rmsnorm(x) * w_post
        dev.launch("rmsnorm_residual_" + sfx, N, 1, 1, 256, 1, 0, xp, tmp, normPost[layer], xn, dim, cfg.normEps);
        dev.gemm(gemmType, xn, wgu[layer], gu, N, 2 * hidden, dim, 0f);
        dev.launchElementwise("swiglu_" + sfx, (long) N * hidden, gu, sw, N, hidden);
        dev.gemm(gemmType, sw, wdown[layer], xp, N, dim, hidden, 1f); // x += down(...)
    }

    /** Rows per lm_head chunk: at most ~256 MiB of fp32 logits at a time. */
    private int chunkRows(int n) { return (int) Math.max(1, Math.min(n, (256L << 20) / (4L * cfg.vocabSize))); }

    /** Final norm of rows [n][dim] at src into a new GEMM-dtype buffer. */
    private CUdeviceptr finalNorm(CUdeviceptr src, int n) {
        CUdeviceptr xn = dev.alloc((long) n * dim * gemmType.bytes, "final norm output");
        finalNormInto(src, n, xn);
        return xn;
    }

    /** Launch only: the final norm of rows [n][dim] at src into xn, in the GEMM dtype. */
    private void finalNormInto(CUdeviceptr src, int n, CUdeviceptr xn) {
        dev.launch("rmsnorm_" + sfx, n, 1, 1, 256, 1, 0, src, finalNorm, xn, dim, cfg.normEps);
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
        CUdeviceptr xn = null, tg = null, per = null, logits = null;
        try {
            xn = finalNorm(a.ptr(), N);
            tg = dev.uploadInts(target, "targets");
            per = dev.alloc(8L * N, "per-row NLL");
            logits = dev.alloc(4L * rows * V, "logits chunk [" + rows + " x " + V + "]");
            for (int r0 = 0; r0 < N; r0 += rows) {
                int n = Math.min(rows, N - r0);
                dev.gemm(gemmType, xn.withByteOffset((long) r0 * dim * gemmType.bytes), lmHead, logits, n, V, dim, 0f);
                dev.launch("nll_rows", n, 1, 1, 1024, 1, 0, logits, tg.withByteOffset(4L * r0), per.withByteOffset(8L * r0), V);
            }
            return dev.downloadDoubles(per, N);
        } finally {
            dev.free(xn); dev.free(tg); dev.free(per); dev.free(logits);
        }
    }

    /** Logits of rows [n][dim] (fp32 hidden states at src) as [n][vocab]. */
    private float[][] logitsOf(CUdeviceptr src, int n) {
        int V = cfg.vocabSize;
        float[][] out = new float[n][];
        int rows = chunkRows(n);
        CUdeviceptr xn = finalNorm(src, n), logits = null;
        try {
            logits = dev.alloc(4L * rows * V, "logits chunk [" + rows + " x " + V + "]");
            for (int r0 = 0; r0 < n; r0 += rows) {
                int m = Math.min(rows, n - r0);
                dev.gemm(gemmType, xn.withByteOffset((long) r0 * dim * gemmType.bytes), lmHead, logits, m, V, dim, 0f);
                float[] flat = dev.downloadFloats(logits, m * V);
                for (int i = 0; i < m; i++) out[r0 + i] = java.util.Arrays.copyOfRange(flat, i * V, (i + 1) * V);
            }
            return out;
        } finally {
            dev.free(xn);
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
            dev.launch("cosine_rows", N, 1, 1, 256, 1, 0, a.ptr(), b.ptr(), per, dim);
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
        for (CUdeviceptr p : owned) dev.release(p);
        owned.clear();
        rope = null;
    }
}
