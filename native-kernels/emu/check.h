// check.h - the test program's helpers: guard-paged buffers, seeded random data, reference dtype
// conversions written independently of the emulator's headers, and check() which runs one case.
#pragma once
#include "host.h"
#include "kernels.h"
#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

// A kernel argument buffer in guard-paged "device" memory.
template <typename T> struct Buf {
    T* p;
    size_t n;
    Buf(size_t n_, const char* name) : p((T*)emu::device_alloc(n_ * sizeof(T), name)), n(n_) {}
    Buf(const std::vector<T>& v, const char* name) : Buf(v.size(), name) { std::memcpy(p, v.data(), v.size() * sizeof(T)); }
    ~Buf() { emu::device_free(p); }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    T& operator[](size_t i) { return p[i]; }
    operator T*() const { return p; }
};

struct Rng {  // splitmix64
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return (next() >> 11) * 0x1p-53; }  // [0, 1)
    int below(int n) { return (int)(next() % (uint64_t)n); }
    double normal() { return std::sqrt(-2.0 * std::log(1.0 - uniform())) * std::cos(6.283185307179586 * uniform()); }
    std::vector<float> normals(size_t n, double scale = 1.0, double offset = 0.0) {
        std::vector<float> v(n);
        for (auto& x : v) x = (float)(offset + scale * normal());
        return v;
    }
};

// Reference conversions: decode from the bit fields, round by comparing neighbours in double.
double bf16_value(uint16_t b);
double f16_value(uint16_t h);
uint16_t bf16_nearest(float f);  // round to nearest, ties to even; NaN -> some NaN
uint16_t f16_nearest(float f);
inline double value(float x) { return x; }
inline double value(double x) { return x; }
inline double value(bf16 x) { return bf16_value(x.__x); }
inline double value(f16 x) { return f16_value(x.__x); }
template <typename T> T rounded(double x);  // x, as an element of type T (via fp32 for the 16-bit types)
template <> inline float rounded<float>(double x) { return (float)x; }
template <> inline bf16 rounded<bf16>(double x) { return bf16{bf16_nearest((float)x)}; }
template <> inline f16 rounded<f16>(double x) { return f16{f16_nearest((float)x)}; }
template <typename T> std::vector<T> rounded(const std::vector<float>& v) {
    std::vector<T> r(v.size());
    for (size_t i = 0; i < v.size(); i++) r[i] = rounded<T>(v[i]);
    return r;
}
template <typename T> std::vector<double> values(const Buf<T>& b) {
    std::vector<double> r(b.n);
    for (size_t i = 0; i < b.n; i++) r[i] = value(b.p[i]);
    return r;
}
template <typename T> void poison(Buf<T>& b) { std::memset(b.p, 0xff, b.n * sizeof(T)); }  // NaN in every float type
template <typename T> const char* type_name();
template <> inline const char* type_name<float>() { return "f32"; }
template <> inline const char* type_name<bf16>() { return "bf16"; }
template <> inline const char* type_name<f16>() { return "f16"; }
template <typename T> double bound_for() { return sizeof(T) == 4 ? 1e-5 : 1e-2; }

// One case, run twice: forward order with buffers ending at a guard page, then reverse order with
// buffers starting at one. Both runs must pass and give bit-identical outputs.
struct Case {
    Rng rng;
    double err = 0;        // worst approximate-comparison error
    long mismatches = 0;   // elements differing in an exact comparison
    std::string error;     // launch error
    std::vector<unsigned char> bytes;  // every compared output, for the cross-run comparison
    explicit Case(uint64_t seed) : rng(seed) {}

    // Launches with the buffers in read_only protected against writes.
    void launch(const char* kernel, dim3 grid, dim3 block, size_t smem, std::initializer_list<const void*> read_only,
                const std::function<void()>& body);
    // max over groups of `group` consecutive elements of max|got - ref| / max|ref|; NaN counts as inf.
    void close(const std::vector<double>& got, const std::vector<double>& ref, size_t group);
    // got == ref element by element (NaN matches NaN).
    void exact(const std::vector<double>& got, const std::vector<double>& ref);
    template <typename T> void keep(const Buf<T>& b) {
        const unsigned char* p = (const unsigned char*)b.p;
        bytes.insert(bytes.end(), p, p + b.n * sizeof(T));
    }
};

// bound > 0: approximate comparisons must stay within it; bound 0: exact comparisons only.
void check(const std::string& kernel, const std::string& shape, double bound, const std::function<void(Case&)>& body);
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

void test_elementwise();
void test_rows();
void test_attention();
void test_gemm();
