// check.cpp - check() and the reference conversions of check.h, and main().
#include "check.h"
#include <chrono>
#include <cstdarg>
#include <cstdio>

std::string strf(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

double bf16_value(uint16_t b) {
    const int e = (b >> 7) & 0xff, m = b & 0x7f;
    const double s = (b & 0x8000) ? -1.0 : 1.0;
    if (e == 0xff) return m ? NAN : s * INFINITY;
    return s * (e == 0 ? std::ldexp(m, -133) : std::ldexp(128 + m, e - 134));
}

double f16_value(uint16_t h) {
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 0x1f) return m ? NAN : s * INFINITY;
    return s * (e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25));
}

// The nearest of the two magnitudes that bracket a (codes lo and lo + 1), ties to the even code.
static uint16_t nearest(double a, uint16_t lo, double vlo, double vhi) {
    const double dlo = a - vlo, dhi = vhi - a;
    if (dlo < dhi) return lo;
    if (dhi < dlo) return lo + 1;
    return (lo & 1) ? lo + 1 : lo;
}

uint16_t bf16_nearest(float f) {
    if (std::isnan(f)) return 0x7fc0;
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint16_t sign = (u >> 16) & 0x8000, lo = (u >> 16) & 0x7fff;  // lo: |f| truncated
    const double a = std::fabs((double)f), vlo = bf16_value(lo);
    if (vlo == a) return sign | lo;
    const double vhi = lo + 1 == 0x7f80 ? std::ldexp(1.0, 128) : bf16_value(lo + 1);  // inf is one step past the max
    return sign | nearest(a, lo, vlo, vhi);
}

uint16_t f16_nearest(float f) {
    if (std::isnan(f)) return 0x7e00;
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double a = std::fabs((double)f);
    auto val = [](int h) { return h == 0x7c00 ? 65536.0 : f16_value((uint16_t)h); };  // inf is one step past 65504
    if (a >= 65536.0) return sign | 0x7c00;
    int lo = 0, hi = 0x7c00;  // val(lo) <= a < val(hi)
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        (val(mid) <= a ? lo : hi) = mid;
    }
    if (val(lo) == a) return sign | lo;
    return sign | nearest(a, (uint16_t)lo, val(lo), val(lo + 1));
}

void Case::launch(const char* kernel, dim3 grid, dim3 block, size_t smem, std::initializer_list<const void*> read_only,
                  const std::function<void()>& body) {
    for (const void* p : read_only) emu::set_read_only(const_cast<void*>(p), true);
    const std::string e = emu::launch(kernel, grid, block, smem, body);
    for (const void* p : read_only) emu::set_read_only(const_cast<void*>(p), false);
    if (!e.empty() && error.empty()) error = e;
}

void Case::close(const std::vector<double>& got, const std::vector<double>& ref, size_t group) {
    for (size_t g0 = 0; g0 < ref.size(); g0 += group) {
        double dmax = 0, rmax = 0;
        for (size_t i = g0; i < std::min(ref.size(), g0 + group); i++) {
            const double d = std::fabs(got[i] - ref[i]);
            dmax = std::isnan(d) ? INFINITY : std::max(dmax, d);
            rmax = std::max(rmax, std::fabs(ref[i]));
        }
        err = std::max(err, dmax == 0 ? 0.0 : dmax / std::max(rmax, 1e-30));
    }
}

void Case::exact(const std::vector<double>& got, const std::vector<double>& ref) {
    for (size_t i = 0; i < ref.size(); i++)
        if (!(got[i] == ref[i] || (std::isnan(got[i]) && std::isnan(ref[i])))) mismatches++;
}

static int n_checks, n_failed;

void check(const std::string& kernel, const std::string& shape, double bound, const std::function<void(Case&)>& body) {
    const uint64_t seed = 1000 + n_checks++;
    Case first(seed), second(seed);
    emu::config = emu::Config{emu::Order::forward, false};
    body(first);
    emu::config = emu::Config{emu::Order::reverse, true};
    body(second);
    emu::config = emu::Config{};

    std::vector<std::string> why;
    for (const Case* c : {&first, &second})
        if (!c->error.empty()) why.push_back(c->error);
    const double err = std::max(first.err, second.err);
    const long mism = std::max(first.mismatches, second.mismatches);
    if (!(err <= bound)) why.push_back(strf("error %.3g exceeds the bound %g", err, bound));
    if (mism) why.push_back(strf("%ld elements differ from the exact reference", mism));
    if (why.empty() && first.bytes != second.bytes)
        why.push_back("outputs differ between the forward-order and reverse-order runs (a race?)");
    const bool ok = why.empty();
    if (!ok) n_failed++;
    const std::string result = bound > 0 ? strf("err %.2e %s %.0e", err, err <= bound ? "<=" : "> ", bound) : std::string("exact");
    printf("%s  %-21s %-58s %-21s seed %llu\n", ok ? "PASS" : "FAIL", kernel.c_str(), shape.c_str(), result.c_str(),
           (unsigned long long)seed);
    for (const auto& w : why) printf("      %s\n", w.c_str());
    fflush(stdout);
}

// Arguments: the kernel names the kernel objects define (emu.mk lists them with nm); each must
// have been launched by some check.
int main(int argc, char** argv) {
    const auto t0 = std::chrono::steady_clock::now();
    printf("kernels-emu: native-kernels/*.cu on the CPU emulator (docs/kernel-emulator.md)\n");
    printf("err: max over groups (a row, a head, ...) of max|got - ref| / max|ref| in the group, reference in double;\n"
           "'exact': bit-exact; every check runs twice (forward order, guard pages after the buffers;\n"
           "reverse order, guard pages before them) and must give bit-identical outputs\n");
    test_elementwise();
    test_rows();
    test_attention();
    test_gemm();
    int untested = 0;
    for (int i = 1; i < argc; i++)
        if (!emu::launched().count(argv[i])) {
            printf("FAIL  %-21s has no check in native-kernels/emu/\n", argv[i]);
            untested++;
        }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("kernels-emu: %d checks, %d failed, %zu kernels launched%s, %.1f s\n", n_checks, n_failed, emu::launched().size(),
           untested ? strf(", %d kernels without a check", untested).c_str() : "", secs);
    return n_failed || untested ? 1 : 0;
}
