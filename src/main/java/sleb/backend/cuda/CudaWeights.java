package sleb.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.model.DType;
import sleb.model.FiniteWeights;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;
import sleb.model.Tensor;

/**
 * A model's weights on one device, uploaded once: the projection matrices in the GEMM dtype (the storage
 * dtype of the first block's q_proj: bf16, fp16 or fp32; a matrix stored otherwise is converted to it),
 * q|k|v and gate|up concatenated row-wise ([out][in], Hugging Face layout) so that each is one GEMM;
 * norms and biases fp32. Every row is checked for NaN and infinity as it is staged, and again after
 * narrowing to the GEMM dtype ({@link FiniteWeights}); either stops the load naming the tensor.
 *
 * <p>OPT ({@link OptLayout}, modeling_opt.py) fills the same per-block slots with its own tensors: q|k|v and
 * their bias, out_proj in {@code o} (+ {@code oBias}), self_attn_layer_norm in {@code inputNorm} (+ bias),
 * the block's final_layer_norm in {@code postNorm} (+ bias), fc1 [ffn][dim] in {@code gateUp} (+ {@code fc1Bias}),
 * fc2 [dim][ffn] in {@code down} (+ {@code fc2Bias}); outside the blocks the learned position table (stored dtype),
 * project_in/out (GEMM dtype, where word_embed_proj_dim differs from hidden_size) and the decoder's final
 * LayerNorm (where present).
 */
final class CudaWeights {
    final DType gemmType, embedType;
    /** Per block (null where not resident): q|k|v [qDim+2kvDim][dim], o [dim][qDim], gate|up [2hidden][dim] (OPT: fc1 [hidden][dim]), down [dim][hidden]. */
    final CUdeviceptr[] qkv, o, gateUp, down;
    /** Per block, fp32: input_layernorm, post_attention_layernorm, q|k|v bias (null without bias). */
    final CUdeviceptr[] inputNorm, postNorm, qkvBias;
    /** Per block, fp32, OPT only (null otherwise): LayerNorm biases, out_proj, fc1 and fc2 biases. */
    final CUdeviceptr[] inputNormBias, postNormBias, oBias, fc1Bias, fc2Bias;
    /** finalNorm is null for an OPT model without a final LayerNorm (the 350m layout). */
    final CUdeviceptr embedding, lmHead, finalNorm;
    /** OPT only (else null): final LayerNorm bias, position table [max_position_embeddings + 2][dim] in positionType, project_in [dim][proj], project_out [proj][dim]. */
    final CUdeviceptr finalNormBias, positions, projectIn, projectOut;
    final DType positionType;
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
        boolean opt = cfg.isOpt();
        int L = cfg.nLayers, dim = cfg.dim, qDim = cfg.qDim(), hidden = cfg.hiddenDim;
        String qName = opt ? OptLayout.layer(0, OptLayout.Q_PROJ + ".weight") : Model.layer(0, "self_attn.q_proj.weight");
        gemmType = L > 0 ? model.tensor(qName).dtype() : model.lmHead().dtype();
        embedType = model.embedding().dtype();
        positionType = opt ? model.tensor(OptLayout.EMBED_POSITIONS).dtype() : null;
        long need = opt ? estimateOptBytes(cfg) : estimateBytes(cfg);
        long[] info = dev.memInfo();
        if (need > info[0])
            throw new CudaOutOfMemoryException("cuda:" + dev.ordinal + " " + dev.name, "the model's weights (" + gemmType + ")", need, info[0], info[1]);
        qkv = new CUdeviceptr[L]; o = new CUdeviceptr[L]; gateUp = new CUdeviceptr[L]; down = new CUdeviceptr[L];
        inputNorm = new CUdeviceptr[L]; postNorm = new CUdeviceptr[L]; qkvBias = new CUdeviceptr[L];
        inputNormBias = new CUdeviceptr[L]; postNormBias = new CUdeviceptr[L]; oBias = new CUdeviceptr[L];
        fc1Bias = new CUdeviceptr[L]; fc2Bias = new CUdeviceptr[L];
        try {
            for (int i = 0; i < L; i++) {
                if (!holds(i)) continue;
                if (opt) {
                    uploadOptBlock(model, i, dim, hidden);
                    continue;
                }
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
            int embedDim = cfg.embedDim();
            embedding = matrix(embedType, embedDim, "embedding table", model.embedding());
            lmHead = cfg.tiedEmbeddings && embedType == gemmType ? embedding : matrix(gemmType, embedDim, "lm_head", model.lmHead());
            boolean finalLn = !opt || cfg.opt.finalLayerNorm;
            finalNorm = finalLn ? vector("final norm", model.finalNorm()) : null;
            finalNormBias = opt && finalLn ? vector("final LayerNorm bias", model.tensor(OptLayout.FINAL_NORM_BIAS)) : null;
            positions = opt ? matrix(positionType, dim, "position embeddings", model.tensor(OptLayout.EMBED_POSITIONS)) : null;
            boolean proj = opt && cfg.opt.projectInOut;
            projectIn = proj ? matrix(gemmType, embedDim, "project_in", model.tensor(OptLayout.PROJECT_IN)) : null;
            projectOut = proj ? matrix(gemmType, dim, "project_out", model.tensor(OptLayout.PROJECT_OUT)) : null;
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    /** One OPT block: the slots the class comment lists. */
    private void uploadOptBlock(Model model, int i, int dim, int ffn) {
        String b = "block " + i + " ";
        qkv[i] = matrix(gemmType, dim, b + "q/k/v weights", ot(model, i, OptLayout.Q_PROJ + ".weight"), ot(model, i, OptLayout.K_PROJ + ".weight"),
                ot(model, i, OptLayout.V_PROJ + ".weight"));
        qkvBias[i] = vector(b + "q/k/v bias", ot(model, i, OptLayout.Q_PROJ + ".bias"), ot(model, i, OptLayout.K_PROJ + ".bias"),
                ot(model, i, OptLayout.V_PROJ + ".bias"));
        o[i] = matrix(gemmType, dim, b + "out_proj", ot(model, i, OptLayout.OUT_PROJ + ".weight"));
        oBias[i] = vector(b + "out_proj bias", ot(model, i, OptLayout.OUT_PROJ + ".bias"));
        gateUp[i] = matrix(gemmType, dim, b + "fc1", ot(model, i, OptLayout.FC1 + ".weight"));
        fc1Bias[i] = vector(b + "fc1 bias", ot(model, i, OptLayout.FC1 + ".bias"));
        down[i] = matrix(gemmType, ffn, b + "fc2", ot(model, i, OptLayout.FC2 + ".weight"));
        fc2Bias[i] = vector(b + "fc2 bias", ot(model, i, OptLayout.FC2 + ".bias"));
        inputNorm[i] = vector(b + "self_attn_layer_norm", ot(model, i, OptLayout.ATTN_NORM + ".weight"));
        inputNormBias[i] = vector(b + "self_attn_layer_norm bias", ot(model, i, OptLayout.ATTN_NORM + ".bias"));
        postNorm[i] = vector(b + "final_layer_norm", ot(model, i, OptLayout.FFN_NORM + ".weight"));
        postNormBias[i] = vector(b + "final_layer_norm bias", ot(model, i, OptLayout.FFN_NORM + ".bias"));
    }

    /** Whether block {@code layer}'s weights are on this device. */
    boolean holds(int layer) { return resident == null || resident[layer]; }

    private static Tensor t(Model m, int layer, String suffix) { return m.tensor(Model.layer(layer, suffix)); }

    private static Tensor ot(Model m, int layer, String suffix) { return m.tensor(OptLayout.layer(layer, suffix)); }

    private long estimateBytes(ModelConfig cfg) {
        long dim = cfg.dim, qkvDim = cfg.qDim() + 2L * cfg.kvDim();
        long perBlock = gemmType.bytes * (qkvDim * dim + dim * cfg.qDim() + 3L * dim * cfg.hiddenDim) + 4L * (2 * dim + qkvDim);
        long e = (long) cfg.vocabSize * dim;
        long head = cfg.tiedEmbeddings && embedType == gemmType ? 0 : e * gemmType.bytes;
        int blocks = 0;
        for (int i = 0; i < cfg.nLayers; i++) if (holds(i)) blocks++;
        return perBlock * blocks + e * embedType.bytes + head + 4L * dim;
    }

    /** OPT: matrices in the GEMM dtype, vectors fp32, tables in their stored dtypes (the tied lm_head shares embed_tokens when that is the GEMM dtype). */
    private long estimateOptBytes(ModelConfig cfg) {
        long dim = cfg.dim, ffn = cfg.hiddenDim, proj = cfg.embedDim();
        long perBlock = gemmType.bytes * (4 * dim * dim + 2 * dim * ffn) + 4L * (4 * dim + 4 * dim + ffn + dim);
        long e = (long) cfg.vocabSize * proj;
        long head = cfg.tiedEmbeddings && embedType == gemmType ? 0 : e * gemmType.bytes;
        long outer = e * embedType.bytes + head + ((long) cfg.maxSeqLen + OptLayout.POSITION_OFFSET) * dim * positionType.bytes
                + (cfg.opt.projectInOut ? 2 * dim * proj * gemmType.bytes : 0) + (cfg.opt.finalLayerNorm ? 8 * dim : 0);
        int blocks = 0;
        for (int i = 0; i < cfg.nLayers; i++) if (holds(i)) blocks++;
        return perBlock * blocks + outer;
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
