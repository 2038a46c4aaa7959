package sleb.backend.cuda;

import jcuda.driver.CUdeviceptr;
import sleb.model.DType;
import sleb.model.RopeStyle;

/**
 * Typed launchers, one per kernel of native-kernels/ (in the manner of llm.c's {@code rmsnorm_forward}):
 * each owns its kernel's name and dtype suffix, grid, block and dynamic shared memory, so callers (the
 * model, the decode session, the benchmark, the tests) name an operation and its tensors only.
 * Pointers are device addresses; "rows" are batch × sequence positions; fp32 unless a dtype t is given,
 * in which case that tensor is in t (the GEMM dtype). The kernels' own comments give the exact contract.
 * The emulator checks (native-kernels/emu/test_*.cpp) copy these geometries: keep them in sync.
 */
final class CudaOps {
    private CudaOps() {}

    /** The kernel-name suffix of a GEMM dtype: f32, bf16 or f16. */
    static String suffix(DType t) {
        switch (t) {
            case F32: return "f32";
            case BF16: return "bf16";
            default: return "f16";
        }
    }

    /** A 1-D grid-stride launch over n elements. */
    private static void elementwise(CudaDevice dev, String fn, long n, Object... args) {
        int blocks = (int) Math.min(65535L * 16, Math.max(1, (n + 255) / 256));
        dev.launch(fn, blocks, 1, 1, 256, 1, 0, args);
    }

    /** out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, rows [rows][dim]: x fp32, w fp32, out in t. */
    static void rmsnorm(CudaDevice dev, DType t, CUdeviceptr x, CUdeviceptr w, CUdeviceptr out, int rows, int dim, float eps) {
        dev.launch("rmsnorm_" + suffix(t), rows, 1, 1, 256, 1, 0, x, w, out, dim, eps);
    }

    /** x += r (fp32, in place), then out = rmsnorm(x) * w in t: the residual add and the next norm in one pass. */
    static void rmsnormResidual(CudaDevice dev, DType t, CUdeviceptr x, CUdeviceptr r, CUdeviceptr w, CUdeviceptr out, int rows, int dim, float eps) {
        dev.launch("rmsnorm_residual_" + suffix(t), rows, 1, 1, 256, 1, 0, x, r, w, out, dim, eps);
    }

    /**
     * out[r] = (x[r] - mean) / sqrt(var + eps) * w + b (torch.nn.LayerNorm: biased variance), rows [rows][dim]:
     * x, w, b fp32, out in t. For t = F32, out may be x (in place: OPT's post-LN blocks).
     */
    static void layernorm(CudaDevice dev, DType t, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr out, int rows, int dim, float eps) {
        dev.launch("layernorm_" + suffix(t), rows, 1, 1, 256, 1, 0, x, w, b, out, dim, eps);
    }

    /** out [n][dim] fp32 = rows ids[0..n) (int32) of the embedding table [vocab][dim] in t. */
    static void embedding(CudaDevice dev, DType t, CUdeviceptr ids, CUdeviceptr table, CUdeviceptr out, int n, int dim) {
        dev.launch("embedding_" + suffix(t), n, 1, 1, 256, 1, 0, ids, table, out, dim);
    }

    /**
     * x[r] += table[pos + offset] for rows [batch*T][dim] fp32, row b*T + t at position pos0 + *posDev + t (posDev
     * may be {@link CudaDevice#NULL}); table [offset + positions][dim] in t (OPT's learned positions, offset 2).
     */
    static void positionEmbeddingAdd(CudaDevice dev, DType t, CUdeviceptr x, CUdeviceptr table, int batch, int T, int pos0, CUdeviceptr posDev,
            int offset, int dim) {
        dev.launch("position_embedding_add_" + suffix(t), batch * T, 1, 1, 256, 1, 0, x, table, T, pos0, posDev, offset, dim);
    }

    /** y[r][c] += bias[c] for rows [rows] of n columns at row stride {@code stride} (q/k/v bias, OPT's out_proj and fc2 bias). */
    static void addBias(CudaDevice dev, CUdeviceptr y, CUdeviceptr bias, int rows, int n, int stride) {
        elementwise(dev, "add_bias", (long) rows * n, y, bias, rows, n, stride);
    }

    /**
     * RoPE in place on the q and k heads of rows [batch*T][stride] (q at 0, k after nHeads*headDim),
     * positions pos0 + *posDev + t (posDev may be {@link CudaDevice#NULL}); table: (cos, sin) per position
     * and frequency. HALF pairs i with i + hd/2 (Hugging Face), ADJACENT pairs 2i with 2i+1 (llama2.c).
     */
    static void rope(CudaDevice dev, RopeStyle style, CUdeviceptr qk, CUdeviceptr table, int batch, int T, int pos0, CUdeviceptr posDev,
            int stride, int nHeads, int nKvHeads, int headDim) {
        dev.launch(style == RopeStyle.HALF ? "rope_half" : "rope_adjacent", batch * T, 1, 1, 128, 1, 0,
                qk, table, T, pos0, posDev, stride, nHeads, nKvHeads, headDim);
    }

    /**
     * Copies the k and v parts (at kOff, vOff in rows of {@code stride}) of rows [batch*T] into the caches
     * [batch][maxLen][kvDim] at positions pos0 + *posDev + t.
     */
    static void kvAppend(CudaDevice dev, CUdeviceptr qkv, int stride, int kOff, int vOff, CUdeviceptr kCache, CUdeviceptr vCache,
            int batch, int T, int pos0, CUdeviceptr posDev, int maxLen, int kvDim) {
        dev.launch("kv_append", batch * T, 1, 1, 128, 1, 0, qkv, stride, kOff, vOff, kCache, vCache, T, pos0, posDev, maxLen, kvDim);
    }

    /**
     * Causal flash attention of T queries per sequence at positions pos0.. (rows of qStride floats) over
     * keys/values 0..pos0+T-1 (rows of kvRow floats, kvBatch floats per sequence), into out (rows of
     * outStride floats); grouped-query heads; window &gt; 0 limits each query to its last window keys.
     */
    static void attentionPrefill(CudaDevice dev, CUdeviceptr q, int qStride, CUdeviceptr k, CUdeviceptr v, int kvRow, long kvBatch,
            CUdeviceptr out, int outStride, int batch, int T, int pos0, int nHeads, int nKvHeads, int headDim, float scale, int window) {
        int smem = Kernels.prefillSmemBytes(headDim);
        dev.allowSharedMemory("attention_prefill", smem);
        dev.launch("attention_prefill", (T + Kernels.PREFILL_BR - 1) / Kernels.PREFILL_BR, nHeads, batch, 32 * Kernels.PREFILL_BR, 1, smem,
                q, qStride, k, v, kvRow, kvBatch, out, outStride, T, pos0, nHeads, nKvHeads, headDim, scale, window);
    }

    /**
     * One query per sequence against keys 0..L-1 (L = keys + *posDev; posDev may be {@link CudaDevice#NULL}),
     * the same layouts and window as {@link #attentionPrefill}.
     */
    static void attentionDecode(CudaDevice dev, CUdeviceptr q, int qStride, CUdeviceptr k, CUdeviceptr v, int kvRow, long kvBatch,
            CUdeviceptr out, int outStride, int batch, int keys, CUdeviceptr posDev, int nHeads, int nKvHeads, int headDim, float scale, int window) {
        dev.launch("attention_decode", nHeads, batch, 1, 32 * Kernels.DECODE_WARPS, 1, Kernels.decodeSmemBytes(headDim),
                q, qStride, k, v, kvRow, kvBatch, out, outStride, keys, posDev, nHeads, nKvHeads, headDim, scale, window);
    }

    /** out [rows][H] in t = silu(gate) * up, from gu [rows][2H] fp32 (gate | up). */
    static void swiglu(CudaDevice dev, DType t, CUdeviceptr gu, CUdeviceptr out, int rows, int H) {
        elementwise(dev, "swiglu_" + suffix(t), (long) rows * H, gu, out, rows, H);
    }

    /** out [rows][n] in t = relu(h + bias), h fp32 [rows][n] (the fc1 GEMM), bias fp32 [n]: OPT's MLP activation. */
    static void biasRelu(CudaDevice dev, DType t, CUdeviceptr h, CUdeviceptr bias, CUdeviceptr out, int rows, int n) {
        elementwise(dev, "bias_relu_" + suffix(t), (long) rows * n, h, bias, out, rows, n);
    }

    /** dst = src rounded to t (bf16 or fp16, round to nearest even), n elements. */
    static void f32To(CudaDevice dev, DType t, CUdeviceptr src, CUdeviceptr dst, long n) {
        elementwise(dev, "f32_to_" + suffix(t), n, src, dst, n);
    }

    /** dst fp32 = src in t (bf16 or fp16), n elements, exact. */
    static void toF32(CudaDevice dev, DType t, CUdeviceptr src, CUdeviceptr dst, long n) {
        elementwise(dev, suffix(t) + "_to_f32", n, src, dst, n);
    }

    /** out[r] (double) = cosine similarity of rows a[r] and b[r], rows [rows][dim] fp32. */
    static void cosineRows(CudaDevice dev, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, int rows, int dim) {
        dev.launch("cosine_rows", rows, 1, 1, 256, 1, 0, a, b, out, dim);
    }

    /** out[r] (double) = -log softmax(logits[r])[target[r]], logits [rows][vocab] fp32; target -1 gives 0. */
    static void nllRows(CudaDevice dev, CUdeviceptr logits, CUdeviceptr targets, CUdeviceptr out, int rows, int vocab) {
        dev.launch("nll_rows", rows, 1, 1, 1024, 1, 0, logits, targets, out, vocab);
    }

    /**
     * Our GEMM kernels (gemm_fallback.cu), the contract of {@link CudaDevice#gemm}: C[m][n] = A·Wᵀ + beta·C,
     * A [m][k] and W [n][k] in t, C fp32; wmma tensor cores for 16-bit, SIMT for fp32.
     */
    static void gemmKernel(CudaDevice dev, DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (t == DType.F32) dev.launch("gemm_f32", (n + 31) / 32, (m + 31) / 32, 1, 32, 8, 0, a, w, c, m, n, k, n, 1f, beta);
        else dev.launch("gemm_wmma_" + suffix(t), (n + 63) / 64, (m + 63) / 64, 1, 128, 1, 0, a, w, c, m, n, k, n, 1f, beta);
    }
}
