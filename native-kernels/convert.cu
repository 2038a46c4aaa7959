// convert.cu - element-wise dtype conversions between fp32 and the 16-bit storage types
// (round to nearest even when narrowing). Used for the attention output before o_proj.
#include "common.cuh"

template <typename S, typename D>
__device__ void convert(const S* src, D* dst, long long n) {
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x)
        dst[e] = from_f32<D>(to_f32(src[e]));
}

extern "C" __global__ void f32_to_bf16(const float* s, __nv_bfloat16* d, long long n) { convert(s, d, n); }
extern "C" __global__ void f32_to_f16(const float* s, __half* d, long long n) { convert(s, d, n); }
extern "C" __global__ void bf16_to_f32(const __nv_bfloat16* s, float* d, long long n) { convert(s, d, n); }
extern "C" __global__ void f16_to_f32(const __half* s, float* d, long long n) { convert(s, d, n); }
