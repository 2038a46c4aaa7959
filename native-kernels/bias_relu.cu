// bias_relu.cu - the OPT MLP activation: out = relu(h + b), the fc1 bias add fused with ReLU.
// h: fp32 rows [rows][n] from the fc1 GEMM; b: fp32 [n]; out: [rows][n] in the GEMM input type of fc2.
// ReLU as torch: max(v, 0), with NaN passed through (fmaxf would turn NaN into 0 and hide it).
#include "common.cuh"

template <typename T>
__device__ void bias_relu(const float* h, const float* b, T* out, int rows, int n) {
    const size_t total = (size_t)rows * n;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const float v = h[e] + b[e % n];
        out[e] = from_f32<T>(v < 0.0f ? 0.0f : v);
    }
}

extern "C" __global__ void bias_relu_f32(const float* h, const float* b, float* out, int rows, int n) { bias_relu(h, b, out, rows, n); }
extern "C" __global__ void bias_relu_bf16(const float* h, const float* b, __nv_bfloat16* out, int rows, int n) { bias_relu(h, b, out, rows, n); }
extern "C" __global__ void bias_relu_f16(const float* h, const float* b, __half* out, int rows, int n) { bias_relu(h, b, out, rows, n); }
