// mma.h (emulator) - nvcuda::wmma for 16x16x16 tiles with bf16/fp16 inputs and fp32 accumulators.
// A fragment holds the whole tile in every lane (on the GPU the elements are spread over the lanes in
// an unspecified way); the *_sync functions are warp rendezvous, and every lane computes the same
// tile: products widened to fp32, summed in k order in fp32.
#pragma once
#include "emu.h"
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

inline float widen(float x) { return x; }
inline float widen(__half x) { return __half2float(x); }
inline float widen(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> T narrow(float x);
template <> inline float narrow<float>(float x) { return x; }
template <> inline __half narrow<__half>(float x) { return __float2half_rn(x); }
template <> inline __nv_bfloat16 narrow<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "the emulator supports 16x16x16 wmma only");
    static constexpr int rows = std::is_same<Use, matrix_b>::value ? K : M;
    static constexpr int cols = std::is_same<Use, matrix_a>::value ? K : N;
    static constexpr int num_elements = rows * cols;
    T x[rows * cols];  // logical [row][col] order: a is [m][k], b is [k][n], accumulator [m][n]
};

template <typename Use, int M, int N, int K, typename T, typename L>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, float v) {
    for (auto& e : f.x) e = narrow<T>(v);
}

// The checks the hardware relies on: 256-bit aligned pointer, ldm a multiple of 16 bytes, and the
// same arguments in every lane.
template <typename T>
inline void collective(::emu::Site at, const char* op, const T* p, unsigned ldm) {
    if ((uintptr_t)p % 32 != 0) ::emu::fail(at, "%s: pointer %p is not 256-bit aligned", op, (const void*)p);
    if (ldm * sizeof(T) % 16 != 0) ::emu::fail(at, "%s: ldm %u is not a multiple of 16 bytes", op, ldm);
    ::emu::warp_exchange(at, op, 0xffffffffu, ((uint64_t)(uintptr_t)p) ^ ((uint64_t)ldm << 48), ::emu::lane_id(), true);
}

template <typename Use, int M, int N, int K, typename T, typename L>
inline void load_matrix_sync_at(::emu::Site at, fragment<Use, M, N, K, T, L>& f, const T* p, unsigned ldm) {
    collective(at, "wmma::load_matrix_sync", p, ldm);
    using F = fragment<Use, M, N, K, T, L>;
    // Element (r, c) of the logical tile lives at p[r*ldm + c] for row_major, p[c*ldm + r] for col_major.
    const bool row = std::is_same<L, row_major>::value;
    for (int r = 0; r < F::rows; r++)
        for (int c = 0; c < F::cols; c++) f.x[r * F::cols + c] = row ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
}
template <int M, int N, int K, typename T>
inline void load_matrix_sync_at(::emu::Site at, fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t l) {
    collective(at, "wmma::load_matrix_sync", p, ldm);
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) f.x[r * N + c] = l == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
}
template <int M, int N, int K, typename T>
inline void store_matrix_sync_at(::emu::Site at, T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t l) {
    collective(at, "wmma::store_matrix_sync", p, ldm);
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) (l == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r]) = f.x[r * N + c];
}
template <int M, int N, int K, typename T, typename LA, typename LB>
inline void mma_sync_at(::emu::Site at, fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LA>& a,
                        const fragment<matrix_b, M, N, K, T, LB>& b, const fragment<accumulator, M, N, K, float>& c) {
    ::emu::warp_exchange(at, "wmma::mma_sync", 0xffffffffu, 0, ::emu::lane_id(), false);
    float r[M * N];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = c.x[i * N + j];
            for (int k = 0; k < K; k++) acc += widen(a.x[i * K + k]) * widen(b.x[k * N + j]);
            r[i * N + j] = acc;
        }
    std::memcpy(d.x, r, sizeof r);  // d may be c
}
}  // namespace wmma
}  // namespace nvcuda

#define load_matrix_sync(...) load_matrix_sync_at(EMU_SITE, __VA_ARGS__)
#define store_matrix_sync(...) store_matrix_sync_at(EMU_SITE, __VA_ARGS__)
#define mma_sync(...) mma_sync_at(EMU_SITE, __VA_ARGS__)
