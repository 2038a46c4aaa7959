// nll.cu - fused log-softmax + negative log-likelihood, one row of logits per block.
// logits: fp32 [rows][vocab], a chunk of rows produced by the lm_head GEMM; target[r] is the next
// token (or -1: no prediction at this row). out[r] = logsumexp(logits[r]) - logits[r][target[r]],
// in double. The host calls GEMM + this kernel chunk by chunk, so [tokens x vocab] never exists.
#include "common.cuh"

extern "C" __global__ void nll_rows(const float* logits, const int* target, double* out, int vocab) {
    const size_t row = blockIdx.x;
    const float* z = logits + row * vocab;
    const int tgt = target[row];
    if (tgt < 0) {  // block-uniform
        if (threadIdx.x == 0) out[row] = 0.0;
        return;
    }
    float mx = NEG_INF;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, z[i]);
    mx = block_max(mx);
    float s = 0.0f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) s += expf(z[i] - mx);
    const double total = block_sum((double)s);
    if (threadIdx.x == 0) out[row] = (double)mx + log(total) - (double)z[tgt];
}
