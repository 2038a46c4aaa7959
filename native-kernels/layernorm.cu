// layernorm.cu - LayerNorm of fp32 hidden rows with weight and bias, as torch.nn.LayerNorm:
// out = (x - mean) / sqrt(var + eps) * w + b, var the biased variance (divided by dim). OPT's
// self_attn_layer_norm, final_layer_norm and decoder final_layer_norm. One block per row; mean and
// variance in fp32 by two passes over the row (the variance sums (x - mean)^2, not x^2 - mean^2, which
// cancels badly for rows far from zero). The output is written in the GEMM input type (fp32, bf16 or
// fp16). For fp32, out may be x itself: each thread reads its elements for the sums before the block
// reductions and writes the same elements after them (post-LN blocks normalise the residual stream in place).
#include "common.cuh"

template <typename T>
__device__ void layernorm_row(const float* x, const float* w, const float* b, T* out, int dim, float eps) {
    float s = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) s += x[i];
    const float mean = block_sum(s) / (float)dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float d = x[i] - mean;
        ss += d * d;
    }
    const float inv = 1.0f / sqrtf(block_sum(ss) / (float)dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[i] = from_f32<T>((x[i] - mean) * inv * w[i] + b[i]);
}

#define LAYERNORM(SUFFIX, T)                                                                             \
    extern "C" __global__ void layernorm_##SUFFIX(const float* x, const float* w, const float* b, T* out, \
                                                  int dim, float eps) {                                  \
        const size_t row = blockIdx.x;                                                                   \
        layernorm_row<T>(x + row * dim, w, b, out + row * dim, dim, eps);                                \
    }

LAYERNORM(f32, float)
LAYERNORM(bf16, __nv_bfloat16)
LAYERNORM(f16, __half)
