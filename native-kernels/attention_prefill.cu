// attention_prefill.cu - causal multi-head attention with GQA, flash style: keys and values stream
// through shared memory in tiles and each query keeps an online softmax (running max m, running sum
// l, unnormalised output o), so no [seq x seq] score matrix is ever stored.
//
// Layout: grid (ceil(T/BR), nH, batch), BR warps per block, one warp per query row. For each tile of
// BC keys, lane j scores key j of the tile (full dot product against the query in shared memory);
// the warp then rescales its output (lane owns dims lane, lane+32, ...) and adds p_j * v_j.
// Query t of sequence b sits at position pos0 + t and sees keys 0..pos0+t, or with window > 0 only keys
// j > pos0 + t - window (transformers' sliding-window mask); tiles wholly before a query's window are
// skipped by its warp, and tiles before the block's first visible key are not loaded. Query head h reads KV head
// h / (nH / nKv). Keys of sequence b: k + b*kv_batch + j*kv_row + kvh*hd (same for v); with pos0 = 0
// these are the K/V columns of the fused QKV rows, in a decode session the KV cache.
// Dynamic shared memory: (BC*(hd+1) + BC*hd + BR*hd) floats. hd <= 32*MAXD.
#include "common.cuh"

#define BR 8
#define BC 32
#define MAXD 8

extern "C" __global__ void attention_prefill(const float* q, int q_row, const float* k, const float* v, int kv_row,
                                             long long kv_batch, float* out, int out_row, int T, int pos0, int nH,
                                             int nKv, int hd, float scale, int window) {
    extern __shared__ float smem[];
    float* Ks = smem;                 // [BC][hd+1], padded: lane j reads row j without bank conflicts
    float* Vs = Ks + BC * (hd + 1);   // [BC][hd]
    float* Qs = Vs + BC * hd;         // [BR][hd]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int b = blockIdx.z, h = blockIdx.y, kvh = h / (nH / nKv);
    const int t0 = blockIdx.x * BR, t = t0 + warp;
    const bool active = t < T;
    const int qpos = pos0 + t;
    const int last = pos0 + min(t0 + BR, T) - 1;  // the last key any query of this block sees
    const int lo = window > 0 ? max(0, qpos - window + 1) : 0;               // this query's first key
    const int first = window > 0 ? max(0, pos0 + t0 - window + 1) : 0;      // the block's first key

    if (active)
        for (int d = lane; d < hd; d += 32) Qs[warp * hd + d] = q[((size_t)b * T + t) * q_row + h * hd + d];
    const float* kb = k + b * kv_batch + kvh * hd;
    const float* vb = v + b * kv_batch + kvh * hd;

    float m = NEG_INF, l = 0.0f, o[MAXD];
#pragma unroll
    for (int i = 0; i < MAXD; i++) o[i] = 0.0f;

    for (int j0 = first; j0 <= last; j0 += BC) {
        __syncthreads();  // the previous tile has been consumed (and Qs is written, first time)
        for (int e = threadIdx.x; e < BC * hd; e += blockDim.x) {
            const int jj = e / hd, d = e % hd, j = j0 + jj;
            float kv = 0.0f, vv = 0.0f;
            if (j <= last) {
                kv = kb[(size_t)j * kv_row + d];
                vv = vb[(size_t)j * kv_row + d];
            }
            Ks[jj * (hd + 1) + d] = kv;
            Vs[jj * hd + d] = vv;
        }
        __syncthreads();
        if (!active || j0 > qpos || j0 + BC <= lo) continue;  // warp-uniform; keeps reaching the barriers

        const int j = j0 + lane;
        const bool seen = j >= lo && j <= qpos;
        float s = NEG_INF;
        if (seen) {
            const float* kr = Ks + lane * (hd + 1);
            const float* qr = Qs + warp * hd;
            float acc = 0.0f;
            for (int d = 0; d < hd; d++) acc += qr[d] * kr[d];
            s = acc * scale;
        }
        const float mnew = fmaxf(m, warp_max(s));  // finite: the tile meets [lo, qpos], so some key is visible
        const float p = seen ? expf(s - mnew) : 0.0f;
        const float corr = expf(m - mnew);          // 0 on the first tile (m = -inf)
        l = l * corr + warp_sum(p);
#pragma unroll
        for (int i = 0; i < MAXD; i++) o[i] *= corr;
        const int nkeys = min(BC, qpos - j0 + 1);
        for (int jj = 0; jj < nkeys; jj++) {
            const float pj = __shfl_sync(FULL_MASK, p, jj);
#pragma unroll
            for (int i = 0; i < MAXD; i++) {
                const int d = lane + 32 * i;
                if (d < hd) o[i] += pj * Vs[jj * hd + d];
            }
        }
        m = mnew;
    }
    if (active) {
        float* dst = out + ((size_t)b * T + t) * out_row + h * hd;
#pragma unroll
        for (int i = 0; i < MAXD; i++) {
            const int d = lane + 32 * i;
            if (d < hd) dst[d] = o[i] / l;
        }
    }
}
