// emu.h - the CUDA device dialect as plain C++, force-included (g++ -include emu.h) into every kernel
// compiled for the CPU emulator. Each CUDA thread runs as a fiber; the runtime (emu/runtime.cpp)
// schedules the fibers of a block and implements barriers and warp operations. docs/kernel-emulator.md
#pragma once
#include <math.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict
// Blocks run one after another on one OS thread, so a function-local static is block-shared memory.
#define __shared__ static
// `extern __shared__ T name[];` cannot be expressed by a macro; emu.mk rewrites it to this.
#define EMU_DYNAMIC_SHARED(T, name) T* const name = static_cast<T*>(::emu::dynamic_shared())

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct __attribute__((aligned(8))) float2 {
    float x, y;
};
inline float2 make_float2(float x, float y) { return float2{x, y}; }

// The running thread's coordinates, set by the scheduler before it resumes a fiber.
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
constexpr int warpSize = 32;

namespace emu {
struct Site {
    const char* file;
    int line;
};
void syncthreads(Site at);
// Warp rendezvous of the lanes in mask: returns the value lane src_lane passed in. All lanes of one
// rendezvous must be at the same operation and site; with same_value, they must also pass equal values.
uint64_t warp_exchange(Site at, const char* op, unsigned mask, uint64_t value, int src_lane, bool same_value);
int lane_id();
void* dynamic_shared();
[[noreturn]] void fail(Site at, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

template <typename T> uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of an unsupported type");
    uint64_t u = 0;
    std::memcpy(&u, &v, sizeof(T));
    return u;
}
template <typename T> T from_bits(uint64_t u) {
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}
inline void check_width(Site at, int width) {
    if (width <= 0 || width > 32 || (width & (width - 1)) != 0) fail(at, "shuffle width %d is not a power of two <= 32", width);
}
template <typename T> T shfl(Site at, unsigned mask, T v, int src, int width = 32) {
    check_width(at, width);
    const int lane = lane_id();
    return from_bits<T>(warp_exchange(at, "__shfl_sync", mask, to_bits(v), (lane & ~(width - 1)) + (src & (width - 1)), false));
}
template <typename T> T shfl_xor(Site at, unsigned mask, T v, int lane_mask, int width = 32) {
    check_width(at, width);
    const int lane = lane_id();
    int src = lane ^ lane_mask;
    if (src >= ((lane / width) + 1) * width) src = lane;  // a later group: own value
    return from_bits<T>(warp_exchange(at, "__shfl_xor_sync", mask, to_bits(v), src & 31, false));
}
template <typename T> T shfl_down(Site at, unsigned mask, T v, unsigned delta, int width = 32) {
    check_width(at, width);
    const int lane = lane_id();
    const int src = (lane % width) + (int)delta < width ? lane + (int)delta : lane;
    return from_bits<T>(warp_exchange(at, "__shfl_down_sync", mask, to_bits(v), src, false));
}
template <typename T> T shfl_up(Site at, unsigned mask, T v, unsigned delta, int width = 32) {
    check_width(at, width);
    const int lane = lane_id();
    const int src = (lane % width) >= (int)delta ? lane - (int)delta : lane;
    return from_bits<T>(warp_exchange(at, "__shfl_up_sync", mask, to_bits(v), src, false));
}
inline void syncwarp(Site at, unsigned mask = 0xffffffffu) { warp_exchange(at, "__syncwarp", mask, 0, lane_id(), false); }
}  // namespace emu

#define EMU_SITE (::emu::Site{__FILE__, __LINE__})
#define __syncthreads() ::emu::syncthreads(EMU_SITE)
#define __syncwarp(...) ::emu::syncwarp(EMU_SITE, ##__VA_ARGS__)
#define __shfl_sync(...) ::emu::shfl(EMU_SITE, __VA_ARGS__)
#define __shfl_xor_sync(...) ::emu::shfl_xor(EMU_SITE, __VA_ARGS__)
#define __shfl_down_sync(...) ::emu::shfl_down(EMU_SITE, __VA_ARGS__)
#define __shfl_up_sync(...) ::emu::shfl_up(EMU_SITE, __VA_ARGS__)

inline float __int_as_float(int x) { return ::emu::from_bits<float>((uint32_t)x); }
inline int __float_as_int(float x) { return (int)(uint32_t)::emu::to_bits(x); }

// CUDA's overloaded min/max of the math API.
#define EMU_MINMAX(T)                                    \
    inline T min(T a, T b) { return b < a ? b : a; }     \
    inline T max(T a, T b) { return a < b ? b : a; }
EMU_MINMAX(int)
EMU_MINMAX(unsigned int)
EMU_MINMAX(long long)
EMU_MINMAX(unsigned long long)
#undef EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
