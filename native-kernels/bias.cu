// bias.cu - adds a bias vector to every row: y[r][c] += b[c] for c < n, rows of `stride` floats.
// Used for the fused q/k/v projection of models with attention biases (Qwen2).
#include "common.cuh"

extern "C" __global__ void add_bias(float* y, const float* b, int rows, int n, int stride) {
    const size_t total = (size_t)rows * n;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t r = e / n, c = e % n;
        y[r * stride + c] += b[c];
    }
}
