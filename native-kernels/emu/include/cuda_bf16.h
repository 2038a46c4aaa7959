// cuda_bf16.h (emulator) - __nv_bfloat16 as raw bits (the top half of an fp32) and its conversions.
#pragma once
#include <cstdint>
#include <cstring>

struct __nv_bfloat16 {
    uint16_t __x;
};

inline float __bfloat162float(__nv_bfloat16 h) {
    const uint32_t u = (uint32_t)h.__x << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even (overflow to inf); NaN becomes the canonical 0x7fff.
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{0x7fff};
    u += 0x7fffu + ((u >> 16) & 1u);
    return __nv_bfloat16{(uint16_t)(u >> 16)};
}
