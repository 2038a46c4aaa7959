// cosine.cu - per-row cosine similarity of two hidden states, cos(a_r, b_r), in double.
// One block per row; the host sums rows per sequence. A zero row gives 0.
#include "common.cuh"

extern "C" __global__ void cosine_rows(const float* a, const float* b, double* out, int dim) {
    const size_t row = blockIdx.x;
    const float* x = a + row * dim;
    const float* y = b + row * dim;
    double dot = 0.0, nx = 0.0, ny = 0.0;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const double u = x[i], v = y[i];
        dot += u * v; nx += u * u; ny += v * v;
    }
    dot = block_sum(dot);
    nx = block_sum(nx);
    ny = block_sum(ny);
    if (threadIdx.x == 0) out[row] = (nx > 0.0 && ny > 0.0) ? dot / (sqrt(nx) * sqrt(ny)) : 0.0;
}
