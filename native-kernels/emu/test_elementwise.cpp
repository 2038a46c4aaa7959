// test_elementwise.cpp - embedding, position_embedding_add, swiglu, bias_relu, add_bias and the dtype conversions.
#include "check.h"

// CudaOps.elementwise: 256 threads, one per element up to 65535*16 blocks (then grid-stride).
static unsigned elementwise_blocks(long long n) { return (unsigned)std::min(65535LL * 16, std::max(1LL, (n + 255) / 256)); }

template <typename T>
static void embedding_case(void (*kernel)(const int*, const T*, float*, int), int vocab, int dim, int rows) {
    const std::string name = std::string("embedding_") + type_name<T>();
    check(name, strf("vocab=%d dim=%d rows=%d", vocab, dim, rows), 0, [&](Case& c) {
        std::vector<int> ids(rows);
        for (auto& id : ids) id = c.rng.below(vocab);
        ids[0] = vocab - 1;  // the last table row ends at the guard page
        ids[rows - 1] = 0;
        Buf<int> id(ids, "ids");
        Buf<T> table(rounded<T>(c.rng.normals((size_t)vocab * dim)), "table");
        Buf<float> out((size_t)rows * dim, "out");
        poison(out);
        c.launch(name.c_str(), rows, 256, 0, {id.p, table.p}, [&] { kernel(id, table, out, dim); });
        std::vector<double> ref(out.n);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++) ref[(size_t)r * dim + i] = value(table[(size_t)ids[r] * dim + i]);
        c.exact(values(out), ref);
        c.keep(out);
    });
}

// Row b*T + t gets table row pos0 + *pos_dev + t + offset added; the last position used is the table's
// last row (it ends at the guard page).
template <typename T>
static void position_case(void (*kernel)(float*, const T*, int, int, const int*, int, int), int batch, int T_, int dim, int pos0,
                          int dev_pos, int offset) {
    const std::string name = std::string("position_embedding_add_") + type_name<T>();
    const int rows = batch * T_, table_rows = pos0 + std::max(dev_pos, 0) + T_ + offset;
    check(name, strf("batch=%d T=%d dim=%d pos0=%d pos_dev=%d offset=%d", batch, T_, dim, pos0, dev_pos, offset), 0, [&](Case& c) {
        const std::vector<float> x0 = c.rng.normals((size_t)rows * dim);
        Buf<float> x(x0, "x");
        Buf<T> table(rounded<T>(c.rng.normals((size_t)table_rows * dim)), "table");
        Buf<int> pd(std::vector<int>{dev_pos}, "pos_dev");
        const int* pos_dev = dev_pos >= 0 ? pd.p : nullptr;
        c.launch(name.c_str(), rows, 256, 0, {table.p, pd.p}, [&] { kernel(x, table, T_, pos0, pos_dev, offset, dim); });
        std::vector<double> ref(x.n);
        for (int r = 0; r < rows; r++) {
            const int pos = pos0 + std::max(dev_pos, 0) + r % T_;
            for (int i = 0; i < dim; i++) {
                const size_t e = (size_t)r * dim + i;
                ref[e] = (double)(float)((double)x0[e] + value(table[(size_t)(pos + offset) * dim + i]));  // the fp32 sum
            }
        }
        c.exact(values(x), ref);
        c.keep(x);
    });
}

template <typename T>
static void swiglu_case(void (*kernel)(const float*, T*, int, int), int rows, int H, unsigned blocks) {
    const std::string name = std::string("swiglu_") + type_name<T>();
    const long long n = (long long)rows * H;
    if (blocks == 0) blocks = elementwise_blocks(n);
    check(name, strf("rows=%d H=%d grid=%u", rows, H, blocks), bound_for<T>(), [&](Case& c) {
        std::vector<float> g = c.rng.normals((size_t)rows * 2 * H, 3.0);
        g[0] = -100.0f;  // exp(100) overflows fp32: silu -> -0
        g[1] = 100.0f;
        g[2] = 0.0f;
        g[(size_t)2 * H + 3] = -20.0f;
        Buf<float> gu(g, "gu");
        Buf<T> out(n, "out");
        poison(out);
        c.launch(name.c_str(), blocks, 256, 0, {gu.p}, [&] { kernel(gu, out, rows, H); });
        std::vector<double> ref(n);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < H; j++) {
                const double a = gu[(size_t)r * 2 * H + j], u = gu[(size_t)r * 2 * H + H + j];
                ref[(size_t)r * H + j] = a / (1.0 + std::exp(-a)) * u;
            }
        c.close(values(out), ref, H);
        c.keep(out);
    });
}

// relu(h + b); h[0] is NaN and must stay NaN (torch.relu passes it), h[1] = -b[1] gives exactly 0.
template <typename T>
static void bias_relu_case(void (*kernel)(const float*, const float*, T*, int, int), int rows, int n, unsigned blocks) {
    const std::string name = std::string("bias_relu_") + type_name<T>();
    const long long total = (long long)rows * n;
    if (blocks == 0) blocks = elementwise_blocks(total);
    check(name, strf("rows=%d n=%d grid=%u", rows, n, blocks), bound_for<T>(), [&](Case& c) {
        std::vector<float> h0 = c.rng.normals((size_t)total, 2.0), b0 = c.rng.normals(n, 0.5);
        h0[0] = NAN;
        h0[1] = -b0[1];
        Buf<float> h(h0, "h"), b(b0, "b");
        Buf<T> out(total, "out");
        poison(out);
        c.launch(name.c_str(), blocks, 256, 0, {h.p, b.p}, [&] { kernel(h, b, out, rows, n); });
        std::vector<double> got, ref;
        for (long long e = 2; e < total; e++) {
            const double v = (double)h0[e] + b0[e % n];
            got.push_back(value(out[e]));
            ref.push_back(v < 0 ? 0.0 : v);
        }
        c.close(got, ref, n);
        c.exact({value(out[0]), value(out[1])}, {NAN, 0.0});
        c.keep(out);
    });
}

static void bias_case(int rows, int n, int stride, unsigned blocks) {
    if (blocks == 0) blocks = elementwise_blocks((long long)rows * n);
    check("add_bias", strf("rows=%d n=%d stride=%d grid=%u", rows, n, stride, blocks), 1e-5, [&](Case& c) {
        const std::vector<float> y0 = c.rng.normals((size_t)rows * stride);
        Buf<float> y(y0, "y"), b(c.rng.normals(n), "b");
        c.launch("add_bias", blocks, 256, 0, {b.p}, [&] { add_bias(y, b, rows, n, stride); });
        std::vector<double> got, ref, got_same, ref_same;  // columns >= n must be untouched
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < stride; j++) {
                const size_t e = (size_t)r * stride + j;
                if (j < n) {
                    got.push_back(y[e]);
                    ref.push_back((double)y0[e] + b[j]);
                } else {
                    got_same.push_back(y[e]);
                    ref_same.push_back(y0[e]);
                }
            }
        c.close(got, ref, n);
        c.exact(got_same, ref_same);
        c.keep(y);
    });
}

// Bit patterns as doubles, with every NaN as -1 (payloads may differ).
static double key(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return std::isnan(f) ? -1.0 : u;
}
template <typename T> static double key16(T h) { return std::isnan(value(h)) ? -1.0 : h.__x; }

static std::vector<float> conversion_inputs(Rng& rng, size_t n, std::initializer_list<uint32_t> specials) {
    std::vector<float> v;
    for (uint32_t u : specials) {
        float f;
        std::memcpy(&f, &u, 4);
        v.push_back(f);
    }
    while (v.size() < n / 2) {  // arbitrary bit patterns: every exponent, NaN and inf included
        const uint32_t u = (uint32_t)rng.next();
        float f;
        std::memcpy(&f, &u, 4);
        v.push_back(f);
    }
    while (v.size() < n) v.push_back((float)(rng.normal() * std::ldexp(1.0, rng.below(40) - 20)));
    return v;
}

// Narrowing must round to nearest even exactly; widening the result back must be exact.
template <typename T>
static void narrow_case(void (*narrow)(const float*, T*, long long), void (*widen)(const T*, float*, long long), uint16_t (*nearest)(float),
                        double (*decode)(uint16_t), std::initializer_list<uint32_t> specials, long long n, unsigned blocks) {
    const std::string name = std::string("f32_to_") + type_name<T>();
    if (blocks == 0) blocks = elementwise_blocks(n);
    check(name + " + back", strf("n=%lld grid=%u, ties/subnormal/overflow/NaN + random bits", n, blocks), 0, [&](Case& c) {
        Buf<float> src(conversion_inputs(c.rng, n, specials), "src");
        Buf<T> mid(n, "narrowed");
        Buf<float> back(n, "widened");
        poison(mid);
        poison(back);
        c.launch(name.c_str(), blocks, 256, 0, {src.p}, [&] { narrow(src, mid, n); });
        const std::string wname = std::string(type_name<T>()) + "_to_f32";
        c.launch(wname.c_str(), blocks, 256, 0, {mid.p}, [&] { widen(mid, back, n); });
        std::vector<double> got(n), ref(n), got_back(n), ref_back(n);
        for (long long i = 0; i < n; i++) {
            const uint16_t r = nearest(src[i]);
            got[i] = key16(mid[i]);
            ref[i] = std::isnan(src[i]) ? -1.0 : r;
            got_back[i] = key(back[i]);
            ref_back[i] = key((float)decode(r));
        }
        c.exact(got, ref);
        c.exact(got_back, ref_back);
        c.keep(mid);
        c.keep(back);
    });
}

template <typename T> static void widen_all_case(void (*widen)(const T*, float*, long long), double (*decode)(uint16_t)) {
    const std::string name = std::string(type_name<T>()) + "_to_f32";
    const long long n = 65536;
    check(name, "all 65536 bit patterns", 0, [&](Case& c) {
        std::vector<T> all(n);
        for (long long i = 0; i < n; i++) all[i].__x = (uint16_t)i;
        Buf<T> src(all, "src");
        Buf<float> out(n, "out");
        poison(out);
        c.launch(name.c_str(), elementwise_blocks(n), 256, 0, {src.p}, [&] { widen(src, out, n); });
        std::vector<double> got(n), ref(n);
        for (long long i = 0; i < n; i++) {
            got[i] = key(out[i]);
            ref[i] = key((float)decode((uint16_t)i));
        }
        c.exact(got, ref);
        c.keep(out);
    });
}

void test_elementwise() {
    embedding_case<float>(embedding_f32, 37, 300, 11);
    embedding_case<bf16>(embedding_bf16, 37, 300, 11);
    embedding_case<f16>(embedding_f16, 50, 96, 3);

    position_case<float>(position_embedding_add_f32, 3, 7, 300, 0, -1, 2);  // prefill: positions 0..6
    position_case<float>(position_embedding_add_f32, 2, 5, 64, 11, -1, 0);
    position_case<bf16>(position_embedding_add_bf16, 3, 1, 300, 0, 40, 2);  // decode step: position from pos_dev
    position_case<f16>(position_embedding_add_f16, 2, 3, 96, 4, 9, 2);

    swiglu_case<float>(swiglu_f32, 7, 300, 0);
    swiglu_case<bf16>(swiglu_bf16, 7, 300, 0);
    swiglu_case<f16>(swiglu_f16, 7, 300, 0);
    swiglu_case<float>(swiglu_f32, 5, 1001, 3);  // grid-stride loop

    bias_relu_case<float>(bias_relu_f32, 7, 300, 0);
    bias_relu_case<bf16>(bias_relu_bf16, 7, 300, 0);
    bias_relu_case<f16>(bias_relu_f16, 7, 300, 0);
    bias_relu_case<float>(bias_relu_f32, 5, 1001, 3);  // grid-stride loop

    bias_case(7, 300, 300, 0);
    bias_case(5, 300, 317, 0);
    bias_case(9, 1000, 1000, 2);

    // ties to even (1 + 2^-8, 1 + 3*2^-8), max float and the tie below inf, NaN with only low
    // payload bits (truncation would make it inf), subnormal ties, signed zero, infinities
    narrow_case<bf16>(f32_to_bf16, bf16_to_f32, bf16_nearest, bf16_value,
                      {0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0x7f7f8000u, 0x7f7f7fffu, 0x7f800001u, 0xffc00000u, 0x00008000u,
                       0x00018000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0xbf808001u},
                      70001, 0);
    // 2^-25 (tie with 0), 3*2^-25, 2^-24, 1023.5*2^-24 (tie below the smallest normal), 2^-14,
    // 65504, just below 65520, 65520 (ties to inf), 65536, 1 + 2^-11, 1 + 3*2^-11, float subnormal
    narrow_case<f16>(f32_to_f16, f16_to_f32, f16_nearest, f16_value,
                     {0x33000000u, 0x33c00000u, 0x33800000u, 0x387fc000u, 0x38800000u, 0x477fe000u, 0x477fefffu, 0x477ff000u,
                      0x47800000u, 0x3f801000u, 0x3f803000u, 0x00000001u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                      0xc77ff000u, 0x501502f9u},
                     70001, 0);
    narrow_case<f16>(f32_to_f16, f16_to_f32, f16_nearest, f16_value, {0x3f801000u}, 70001, 5);  // grid-stride loop
    widen_all_case<bf16>(bf16_to_f32, bf16_value);
    widen_all_case<f16>(f16_to_f32, f16_value);
}
