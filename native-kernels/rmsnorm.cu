// rmsnorm.cu - RMSNorm of fp32 hidden rows: out = x / sqrt(mean(x^2) + eps) * w.
// One block per row. The output is written in the GEMM input type (fp32, bf16 or fp16), so the
// projection that follows reads it directly. rmsnorm_residual_* first adds r into x (x += r, the
// residual connection) and then normalises the updated row, in one pass over memory.
#include "common.cuh"

template <typename T>
__device__ void rmsnorm_row(float* x, const float* r, const float* w, T* out, int dim, float eps) {
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = x[i];
        if (r != nullptr) { v += r[i]; x[i] = v; }
        ss += v * v;
    }
    ss = block_sum(ss);
    const float inv = 1.0f / sqrtf(ss / (float)dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[i] = from_f32<T>(x[i] * inv * w[i]);
}

#define RMSNORM(SUFFIX, T)                                                                          \
    extern "C" __global__ void rmsnorm_##SUFFIX(const float* x, const float* w, T* out, int dim,   \
                                                float eps) {                                        \
        const size_t row = blockIdx.x;                                                              \
        rmsnorm_row<T>(const_cast<float*>(x) + row * dim, nullptr, w, out + row * dim, dim, eps);  \
    }                                                                                               \
    extern "C" __global__ void rmsnorm_residual_##SUFFIX(float* x, const float* r, const float* w,  \
                                                         T* out, int dim, float eps) {              \
        const size_t row = blockIdx.x;                                                              \
        rmsnorm_row<T>(x + row * dim, r + row * dim, w, out + row * dim, dim, eps);                 \
    }

RMSNORM(f32, float)
RMSNORM(bf16, __nv_bfloat16)
RMSNORM(f16, __half)
