// attention_decode.cu - attention of one new query position per sequence over its KV cache, and the
// append of new K/V rows to that cache.
//
// attention_decode: grid (nH, batch), NW warps. Warp w takes keys w, w+NW, ...; per key the lanes
// share the dot product (lane owns dims lane, lane+32, ...; coalesced reads of the key row) and the
// warp keeps an online softmax. The NW partial (m, l, o) are merged through shared memory at the end.
// q: row b at q + b*q_row (+ h*hd); keys j < L of sequence b at k + b*kv_batch + j*kv_row + kvh*hd.
// The query sits at position L - 1; with window > 0 it sees only keys j >= L - window (transformers'
// sliding-window mask), else all L. With pos_dev not null, *pos_dev is added to L (and to pos0 in kv_append): the position of a decode
// step captured in a CUDA graph lives in device memory (a replay reuses the captured arguments).
//
// kv_append: copies the K and V columns of the fused QKV rows [batch*T][stride] into the caches
// kc, vc [batch][maxLen][kvDim] at positions pos0..pos0+T-1. One block per row.
#include "common.cuh"

#define NW 8
#define MAXD 8

extern "C" __global__ void attention_decode(const float* q, int q_row, const float* k, const float* v, int kv_row,
                                            long long kv_batch, float* out, int out_row, int len, const int* pos_dev,
                                            int nH, int nKv, int hd, float scale, int window) {
    __shared__ float ms[NW], ls[NW];
    extern __shared__ float os[];  // [NW][hd]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h = blockIdx.x, b = blockIdx.y, kvh = h / (nH / nKv);
    const int L = len + (pos_dev != nullptr ? *pos_dev : 0);
    const float* qr = q + (size_t)b * q_row + h * hd;
    const float* kb = k + b * kv_batch + kvh * hd;
    const float* vb = v + b * kv_batch + kvh * hd;

    float qv[MAXD], o[MAXD];
#pragma unroll
    for (int i = 0; i < MAXD; i++) {
        const int d = lane + 32 * i;
        qv[i] = d < hd ? qr[d] : 0.0f;
        o[i] = 0.0f;
    }
    float m = NEG_INF, l = 0.0f;
    const int j0 = window > 0 ? max(0, L - window) : 0;
    for (int j = j0 + warp; j < L; j += NW) {
        const float* kr = kb + (size_t)j * kv_row;
        const float* vr = vb + (size_t)j * kv_row;
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < MAXD; i++) {
            const int d = lane + 32 * i;
            if (d < hd) dot += qv[i] * kr[d];
        }
        const float s = warp_sum(dot) * scale;
        const float mnew = fmaxf(m, s);
        const float corr = expf(m - mnew), p = expf(s - mnew);
        l = l * corr + p;
#pragma unroll
        for (int i = 0; i < MAXD; i++) {
            const int d = lane + 32 * i;
            if (d < hd) o[i] = o[i] * corr + p * vr[d];
        }
        m = mnew;
    }
    if (lane == 0) { ms[warp] = m; ls[warp] = l; }
#pragma unroll
    for (int i = 0; i < MAXD; i++) {
        const int d = lane + 32 * i;
        if (d < hd) os[warp * hd + d] = o[i];
    }
    __syncthreads();
    float M = NEG_INF;
    for (int w = 0; w < NW; w++) M = fmaxf(M, ms[w]);
    float total = 0.0f;
    for (int w = 0; w < NW; w++) total += ls[w] * expf(ms[w] - M);  // a warp without keys adds 0
    float* dst = out + (size_t)b * out_row + h * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = 0.0f;
        for (int w = 0; w < NW; w++) acc += os[w * hd + d] * expf(ms[w] - M);
        dst[d] = acc / total;
    }
}

extern "C" __global__ void kv_append(const float* qkv, int stride, int kcol, int vcol, float* kc, float* vc, int T,
                                     int pos0, const int* pos_dev, int maxLen, int kvDim) {
    const size_t row = blockIdx.x;
    const size_t b = row / T, t = row % T;
    const float* src = qkv + row * stride;
    const size_t pos = pos0 + (pos_dev != nullptr ? *pos_dev : 0) + t;
    const size_t dst = (b * maxLen + pos) * kvDim;
    for (int i = threadIdx.x; i < kvDim; i += blockDim.x) {
        kc[dst + i] = src[kcol + i];
        vc[dst + i] = src[vcol + i];
    }
}
