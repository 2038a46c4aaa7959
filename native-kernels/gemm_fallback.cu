// gemm_fallback.cu - a plain GEMM for when libcublas.so.12 cannot be loaded. Same contract as the
// cuBLAS call it replaces (row-major, weights in Hugging Face [out][in] layout):
//     C[m][n] = alpha * sum_k A[m][k] * B[n][k] + beta * C[m][n]     (beta = 0: C is not read)
// A: activations [M][K], B: weights [N][K], C: fp32 [M][ldc].
// gemm_wmma_bf16 / _f16: tensor cores (wmma 16x16x16, fp32 accumulate). A 64x64 block tile, 4 warps
// with 2x2 fragments each; tiles are staged through shared memory with zero padding, so any M, N, K
// work. gemm_f32: a 32x32 shared-memory tiled SIMT kernel, fp32 throughout (no TF32).
#include "common.cuh"
#include <mma.h>
using namespace nvcuda;

#define TM 64
#define TN 64
#define TK 32
#define PAD 8

template <typename T>
__device__ void gemm_wmma(const T* A, const T* B, float* C, int M, int N, int K, int ldc, float alpha, float beta) {
    __shared__ __align__(32) T As[TM][TK + PAD];
    __shared__ __align__(32) T Bs[TN][TK + PAD];
    __shared__ __align__(32) float Cs[TM][TN + 4];
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    const int warp = threadIdx.x >> 5;
    const int wr = (warp / 2) * 32, wc = (warp % 2) * 32;
    const T zero = from_f32<T>(0.0f);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int e = threadIdx.x; e < TM * TK; e += blockDim.x) {
            const int r = e / TK, c = e % TK, gk = k0 + c;
            As[r][c] = (m0 + r < M && gk < K) ? A[(size_t)(m0 + r) * K + gk] : zero;
            Bs[r][c] = (n0 + r < N && gk < K) ? B[(size_t)(n0 + r) * K + gk] : zero;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(a[i], &As[wr + 16 * i][kk], TK + PAD);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(b[j], &Bs[wc + 16 * j][kk], TK + PAD);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(&Cs[wr + 16 * i][wc + 16 * j], acc[i][j], TN + 4, wmma::mem_row_major);
    __syncthreads();
    for (int e = threadIdx.x; e < TM * TN; e += blockDim.x) {
        const int r = e / TN, c = e % TN, gm = m0 + r, gn = n0 + c;
        if (gm < M && gn < N) {
            float* dst = C + (size_t)gm * ldc + gn;
            *dst = alpha * Cs[r][c] + (beta != 0.0f ? beta * *dst : 0.0f);
        }
    }
}

// grid (ceil(N/64), ceil(M/64)), 128 threads.
extern "C" __global__ void gemm_wmma_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                                          int K, int ldc, float alpha, float beta) {
    gemm_wmma(A, B, C, M, N, K, ldc, alpha, beta);
}
extern "C" __global__ void gemm_wmma_f16(const __half* A, const __half* B, float* C, int M, int N, int K, int ldc,
                                         float alpha, float beta) {
    gemm_wmma(A, B, C, M, N, K, ldc, alpha, beta);
}

// grid (ceil(N/32), ceil(M/32)), block (32, 8): thread (tx, ty) computes rows ty, ty+8, ty+16, ty+24.
extern "C" __global__ void gemm_f32(const float* A, const float* B, float* C, int M, int N, int K, int ldc,
                                    float alpha, float beta) {
    __shared__ float As[32][33], Bs[32][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int m0 = blockIdx.y * 32, n0 = blockIdx.x * 32;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k0 = 0; k0 < K; k0 += 32) {
        for (int i = 0; i < 4; i++) {
            const int r = ty + 8 * i, gk = k0 + tx;
            As[r][tx] = (m0 + r < M && gk < K) ? A[(size_t)(m0 + r) * K + gk] : 0.0f;
            Bs[r][tx] = (n0 + r < N && gk < K) ? B[(size_t)(n0 + r) * K + gk] : 0.0f;
        }
        __syncthreads();
        for (int c = 0; c < 32; c++) {
            const float bv = Bs[tx][c];
            for (int i = 0; i < 4; i++) acc[i] += As[ty + 8 * i][c] * bv;
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++) {
        const int gm = m0 + ty + 8 * i, gn = n0 + tx;
        if (gm < M && gn < N) {
            float* dst = C + (size_t)gm * ldc + gn;
            *dst = alpha * acc[i] + (beta != 0.0f ? beta * *dst : 0.0f);
        }
    }
}
