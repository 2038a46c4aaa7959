// position_embedding.cu - learned absolute position embeddings (OPT): x[r][:] += table[pos + offset][:].
// x: fp32 rows [batch*T][dim]; row b*T + t has position pos0 + t, plus *pos_dev when pos_dev is not null
// (a decode step replayed from a CUDA graph reads its position from device memory, as rope.cu does).
// offset: the rows the table keeps before position 0 (2 for OPT: transformers' OPTLearnedPositionalEmbedding).
// The table stays in its stored dtype (fp32, bf16 or fp16) and is widened to fp32. One block per row.
#include "common.cuh"

template <typename T>
__device__ void position_add_row(float* x, const T* table, int T_, int pos0, const int* pos_dev, int offset, int dim) {
    const size_t row = blockIdx.x;
    const int pos = pos0 + (pos_dev != nullptr ? *pos_dev : 0) + (int)(row % T_);
    const T* src = table + (size_t)(pos + offset) * dim;
    float* dst = x + row * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] += to_f32(src[i]);
}

#define POSITION_ADD(SUFFIX, T)                                                                                \
    extern "C" __global__ void position_embedding_add_##SUFFIX(float* x, const T* table, int T_, int pos0,     \
                                                               const int* pos_dev, int offset, int dim) {      \
        position_add_row<T>(x, table, T_, pos0, pos_dev, offset, dim);                                        \
    }

POSITION_ADD(f32, float)
POSITION_ADD(bf16, __nv_bfloat16)
POSITION_ADD(f16, __half)
