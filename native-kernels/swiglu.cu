// swiglu.cu - the MLP gate: out = silu(g) * u, silu(g) = g / (1 + exp(-g)).
// gu: fp32 rows [rows][2H] from the fused gate|up projection (gate in columns [0,H), up in [H,2H)).
// out: [rows][H] in the GEMM input type of the down projection.
#include "common.cuh"

template <typename T>
__device__ void swiglu(const float* gu, T* out, int rows, int H) {
    const size_t total = (size_t)rows * H;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t r = e / H, c = e % H;
        const float g = gu[r * 2 * H + c], u = gu[r * 2 * H + H + c];
        out[e] = from_f32<T>(g / (1.0f + expf(-g)) * u);
    }
}

extern "C" __global__ void swiglu_f32(const float* gu, float* out, int rows, int H) { swiglu(gu, out, rows, H); }
extern "C" __global__ void swiglu_bf16(const float* gu, __nv_bfloat16* out, int rows, int H) { swiglu(gu, out, rows, H); }
extern "C" __global__ void swiglu_f16(const float* gu, __half* out, int rows, int H) { swiglu(gu, out, rows, H); }
