// embedding.cu - token embedding gather: out[r][:] = table[ids[r]][:], widened to fp32.
// The table stays in its stored dtype on the device (fp32, bf16 or fp16). One block per row.
#include "common.cuh"

template <typename T>
__device__ void embed_row(const int* ids, const T* table, float* out, int dim) {
    const size_t row = blockIdx.x;
    const T* src = table + (size_t)ids[row] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[row * dim + i] = to_f32(src[i]);
}

extern "C" __global__ void embedding_f32(const int* ids, const float* table, float* out, int dim) { embed_row(ids, table, out, dim); }
extern "C" __global__ void embedding_bf16(const int* ids, const __nv_bfloat16* table, float* out, int dim) { embed_row(ids, table, out, dim); }
extern "C" __global__ void embedding_f16(const int* ids, const __half* table, float* out, int dim) { embed_row(ids, table, out, dim); }
