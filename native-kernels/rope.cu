// rope.cu - rotary position embedding, applied in place to the Q and K heads of the fused QKV rows.
// qkv: fp32 rows [batch*T][stride]; Q heads occupy columns [0, nH*hd), K heads follow directly,
// so the nH + nKv heads to rotate are contiguous. Row b*T + t has position pos0 + t, plus *pos_dev when
// pos_dev is not null: a decode step captured in a CUDA graph reads its position from device memory,
// since a graph replays its launches with the arguments they were captured with.
// cs: (cos, sin) table [position][hd/2], computed on the host in double from ModelConfig.ropeInvFreq().
// rope_adjacent rotates pairs (2i, 2i+1) (llama2.c / Meta layout); rope_half rotates (i, i + hd/2)
// (Hugging Face layout). One block per row.
#include "common.cuh"

template <bool HALF>
__device__ void rope_row(float* qkv, const float2* cs, int T, int pos0, const int* pos_dev, int stride, int nH, int nKv,
                         int hd) {
    const size_t row = blockIdx.x;
    const int pos = pos0 + (pos_dev != nullptr ? *pos_dev : 0) + (int)(row % T);
    const int half = hd / 2;
    const int npairs = (nH + nKv) * half;
    float* base = qkv + row * stride;
    const float2* c = cs + (size_t)pos * half;
    for (int p = threadIdx.x; p < npairs; p += blockDim.x) {
        const int head = p / half, i = p % half;
        float* h = base + head * hd;
        const int ia = HALF ? i : 2 * i, ib = HALF ? i + half : 2 * i + 1;
        const float a = h[ia], b = h[ib];
        const float2 r = c[i];
        h[ia] = a * r.x - b * r.y;
        h[ib] = a * r.y + b * r.x;
    }
}

extern "C" __global__ void rope_adjacent(float* qkv, const float2* cs, int T, int pos0, const int* pos_dev, int stride,
                                         int nH, int nKv, int hd) {
    rope_row<false>(qkv, cs, T, pos0, pos_dev, stride, nH, nKv, hd);
}
extern "C" __global__ void rope_half(float* qkv, const float2* cs, int T, int pos0, const int* pos_dev, int stride, int nH,
                                     int nKv, int hd) {
    rope_row<true>(qkv, cs, T, pos0, pos_dev, stride, nH, nKv, hd);
}
