package sleb.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.model.DType;
import sleb.model.FiniteWeights;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.Tensor;

/**
 * A model's weights on one device, uploaded once: the projection matrices in the GEMM dtype (the storage
 * dtype of the first block's q_proj: bf16, fp16 or fp32; a matrix stored otherwise is converted to it),
 * q|k|v and gate|up concatenated row-wise ([out][in], Hugging Face layout) so that each is one GEMM;
 * norms and biases fp32. Every row is checked for NaN and infinity as it is staged, and again after
 * narrowing to the GEMM dtype ({@link FiniteWeights}); either stops the load naming the tensor.
 */
final class CudaWeights {
    final DType gemmType, embedType;
    /** Per block (null where not resident): q|k|v [qDim+2kvDim][dim], o [dim][qDim], gate|up [2hidden][dim], down [dim][hidden]. */
    final CUdeviceptr[] qkv, o, gateUp, down;
    /** Per block, fp32: input_layernorm, post_attention_layernorm, q|k|v bias (null without bias). */
    final CUdeviceptr[] inputNorm, postNorm, qkvBias;
    final CUdeviceptr embedding, lmHead, finalNorm;
    private final CudaDevice dev;
    private final boolean[] resident;
    private final List<CUdeviceptr> owned = new ArrayList<>();

    /**
     * @param resident the blocks to upload (null: all); the embedding, final norm and lm_head always are
     * @throws CudaOutOfMemoryException when the weights exceed the device's free memory (checked first)
     */
    CudaWeights(CudaDevice dev, Model model, boolean[] resident) {
        this.dev = dev;
        this.resident = resident;
        ModelConfig cfg = model.config();
        int L = cfg.nLayers, dim = cfg.dim, qDim = cfg.qDim(), hidden = cfg.hiddenDim;
        gemmType = L > 0 ? model.tensor(Model.layer(0, "self_attn.q_proj.weight")).dtype() : model.lmHead().dtype();
        embedType = model.embedding().dtype();
        long need = estimateBytes(cfg);
        long[] info = dev.memInfo();
        if (need > info[0])
            throw new CudaOutOfMemoryException("cuda:" + dev.ordinal + " " + dev.name, "the model's weights (" + gemmType + ")", need, info[0], info[1]);
        qkv = new CUdeviceptr[L]; o = new CUdeviceptr[L]; gateUp = new CUdeviceptr[L]; down = new CUdeviceptr[L];
        inputNorm = new CUdeviceptr[L]; postNorm = new CUdeviceptr[L]; qkvBias = new CUdeviceptr[L];
        try {
            for (int i = 0; i < L; i++) {
                if (!holds(i)) continue;
                qkv[i] = matrix(gemmType, dim, "block " + i + " q/k/v weights", t(model, i, "self_attn.q_proj.weight"),
                        t(model, i, "self_attn.k_proj.weight"), t(model, i, "self_attn.v_proj.weight"));
                o[i] = matrix(gemmType, qDim, "block " + i + " o_proj", t(model, i, "self_attn.o_proj.weight"));
                gateUp[i] = matrix(gemmType, dim, "block " + i + " gate/up", t(model, i, "mlp.gate_proj.weight"), t(model, i, "mlp.up_proj.weight"));
                down[i] = matrix(gemmType, hidden, "block " + i + " down_proj", t(model, i, "mlp.down_proj.weight"));
                inputNorm[i] = vector("block " + i + " input norm", t(model, i, "input_layernorm.weight"));
                postNorm[i] = vector("block " + i + " post-attention norm", t(model, i, "post_attention_layernorm.weight"));
                if (cfg.qkvBias)
                    qkvBias[i] = vector("block " + i + " q/k/v bias", t(model, i, "self_attn.q_proj.bias"),
                            t(model, i, "self_attn.k_proj.bias"), t(model, i, "self_attn.v_proj.bias"));
            }
            embedding = matrix(embedType, dim, "embedding table", model.embedding());
            lmHead = cfg.tiedEmbeddings && embedType == gemmType ? embedding : matrix(gemmType, dim, "lm_head", model.lmHead());
            finalNorm = vector("final norm", model.finalNorm());
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    /** Whether block {@code layer}'s weights are on this device. */
    boolean holds(int layer) { return resident == null || resident[layer]; }

    private static Tensor t(Model m, int layer, String suffix) { return m.tensor(Model.layer(layer, suffix)); }

    private long estimateBytes(ModelConfig cfg) {
        long dim = cfg.dim, qkvDim = cfg.qDim() + 2L * cfg.kvDim();
        long perBlock = gemmType.bytes * (qkvDim * dim + dim * cfg.qDim() + 3L * dim * cfg.hiddenDim) + 4L * (2 * dim + qkvDim);
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

    /** Gives every weight back to the device at once. */
    void release() {
        for (CUdeviceptr p : owned) dev.release(p);
        owned.clear();
    }
}
