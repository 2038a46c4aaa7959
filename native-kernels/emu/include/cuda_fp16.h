// cuda_fp16.h (emulator) - __half as raw IEEE binary16 bits and the two conversions the kernels use.
#pragma once
#include <cstdint>
#include <cstring>

struct __half {
    uint16_t __x;
};

inline float __half2float(__half h) {
    const uint32_t sign = (uint32_t)(h.__x & 0x8000u) << 16, e = (h.__x >> 10) & 0x1fu, m = h.__x & 0x3ffu;
    uint32_t u;
    if (e == 0) {  // zero or subnormal: m * 2^-24, exact in fp32
        float f = (float)m * 0x1p-24f;
        std::memcpy(&u, &f, 4);
        u |= sign;
    } else if (e == 31) {
        u = sign | 0x7f800000u | (m << 13);  // inf, or NaN keeping its payload
    } else {
        u = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even, with subnormals and overflow to inf; NaN becomes the canonical 0x7fff.
inline __half __float2half_rn(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    uint16_t r;
    if (x > 0x7f800000u) {
        return __half{0x7fff};
    } else if (x >= 0x477ff000u) {  // >= 65520 (incl. inf): rounds to inf
        r = 0x7c00;
    } else if (x < 0x38800000u) {  // below 2^-14: subnormal or zero
        // Adding 0.5f (ulp 2^-24) lets the FPU round |f| to a multiple of 2^-24, ties to even.
        float a, s;
        std::memcpy(&a, &x, 4);
        s = a + 0.5f;
        uint32_t u;
        std::memcpy(&u, &s, 4);
        r = (uint16_t)(u - 0x3f000000u);  // 0x400 (the smallest normal) comes out right too
    } else {
        x += 0xc8000fffu + ((x >> 13) & 1u);  // rebias exponent (-112 << 23, mod 2^32) and round
        r = (uint16_t)(x >> 13);
    }
    return __half{(uint16_t)(sign | r)};
}
