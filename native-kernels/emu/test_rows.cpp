// test_rows.cpp - the one-block-per-row reductions: rmsnorm (+ residual), layernorm, cosine_rows, nll_rows.
#include "check.h"

template <typename T>
static void rmsnorm_case(void (*plain)(const float*, const float*, T*, int, float),
                         void (*residual)(float*, const float*, const float*, T*, int, float), int rows, int dim, bool with_residual) {
    const std::string name = std::string(with_residual ? "rmsnorm_residual_" : "rmsnorm_") + type_name<T>();
    check(name, strf("rows=%d dim=%d", rows, dim), bound_for<T>(), [&](Case& c) {
        const std::vector<float> x0 = c.rng.normals((size_t)rows * dim, 2.0), r0 = c.rng.normals((size_t)rows * dim);
        Buf<float> x(x0, "x"), r(r0, "r"), w(c.rng.normals(dim, 0.3, 1.0), "w");
        Buf<T> out((size_t)rows * dim, "out");
        poison(out);
        const float eps = 1e-5f;
        if (with_residual)
            c.launch(name.c_str(), rows, 256, 0, {r.p, w.p}, [&] { residual(x, r, w, out, dim, eps); });
        else
            c.launch(name.c_str(), rows, 256, 0, {x.p, w.p}, [&] { plain(x, w, out, dim, eps); });
        std::vector<double> ref(out.n), xref(x.n);
        for (int i = 0; i < rows; i++) {
            double ss = 0;
            for (int j = 0; j < dim; j++) {
                const size_t e = (size_t)i * dim + j;
                xref[e] = with_residual ? (double)(float)((double)x0[e] + r0[e]) : x0[e];  // the fp32 sum
                ss += xref[e] * xref[e];
            }
            const double inv = 1.0 / std::sqrt(ss / dim + eps);
            for (int j = 0; j < dim; j++) ref[(size_t)i * dim + j] = xref[(size_t)i * dim + j] * inv * w[j];
        }
        c.close(values(out), ref, dim);
        c.exact(values(x), xref);
        c.keep(out);
        c.keep(x);
    });
}

// torch.nn.LayerNorm: biased variance. Rows N(offset, 2^2): a large offset is where a one-pass
// E[x^2] - mean^2 variance loses its digits. in_place (fp32 only): out is x, as post-LN blocks call it.
template <typename T>
static void layernorm_case(void (*kernel)(const float*, const float*, const float*, T*, int, float), int rows, int dim, double offset,
                           bool in_place) {
    const std::string name = std::string("layernorm_") + type_name<T>();
    check(name, strf("rows=%d dim=%d x N(%g, 2^2)%s", rows, dim, offset, in_place ? " in place" : ""), bound_for<T>(), [&](Case& c) {
        const std::vector<float> x0 = c.rng.normals((size_t)rows * dim, 2.0, offset);
        Buf<float> x(x0, "x"), w(c.rng.normals(dim, 0.3, 1.0), "w"), b(c.rng.normals(dim, 0.5), "b");
        Buf<T> out_buf(in_place ? 0 : (size_t)rows * dim, "out");
        T* out = in_place ? (T*)x.p : out_buf.p;
        if (!in_place) poison(out_buf);
        const float eps = 1e-5f;
        if (in_place)
            c.launch(name.c_str(), rows, 256, 0, {w.p, b.p}, [&] { kernel(x, w, b, out, dim, eps); });
        else
            c.launch(name.c_str(), rows, 256, 0, {x.p, w.p, b.p}, [&] { kernel(x, w, b, out, dim, eps); });
        std::vector<double> ref((size_t)rows * dim), got((size_t)rows * dim);
        for (int i = 0; i < rows; i++) {
            const float* xr = x0.data() + (size_t)i * dim;
            double mean = 0, var = 0;
            for (int j = 0; j < dim; j++) mean += xr[j];
            mean /= dim;
            for (int j = 0; j < dim; j++) var += (xr[j] - mean) * (xr[j] - mean);
            var /= dim;
            const double inv = 1.0 / std::sqrt(var + eps);
            for (int j = 0; j < dim; j++) ref[(size_t)i * dim + j] = (xr[j] - mean) * inv * w[j] + b[j];
        }
        for (size_t e = 0; e < got.size(); e++) got[e] = value(out[e]);
        c.close(got, ref, dim);
        if (in_place) c.keep(x);
        else c.keep(out_buf);
    });
}

static void cosine_case(int rows, int dim) {
    check("cosine_rows", strf("rows=%d dim=%d, zero rows, parallel rows", rows, dim), 1e-12, [&](Case& c) {
        std::vector<float> a = c.rng.normals((size_t)rows * dim), b = c.rng.normals((size_t)rows * dim);
        for (int j = 0; j < dim; j++) {
            b[(size_t)1 * dim + j] = 2.5f * a[(size_t)1 * dim + j];
            a[(size_t)2 * dim + j] = 0.0f;
            b[(size_t)3 * dim + j] = 0.0f;
            a[(size_t)4 * dim + j] = b[(size_t)4 * dim + j] = 0.0f;
        }
        Buf<float> ab(a, "a"), bb(b, "b");
        Buf<double> out(rows, "out");
        poison(out);
        c.launch("cosine_rows", rows, 256, 0, {ab.p, bb.p}, [&] { cosine_rows(ab, bb, out, dim); });
        std::vector<double> ref(rows);
        for (int i = 0; i < rows; i++) {
            double dot = 0, nx = 0, ny = 0;
            for (int j = 0; j < dim; j++) {
                const double u = a[(size_t)i * dim + j], v = b[(size_t)i * dim + j];
                dot += u * v;
                nx += u * u;
                ny += v * v;
            }
            ref[i] = nx > 0 && ny > 0 ? dot / std::sqrt(nx * ny) : 0.0;
        }
        const std::vector<double> got = values(out);
        c.close(got, ref, rows);
        c.exact({got[2], got[3], got[4]}, {0.0, 0.0, 0.0});
        c.keep(out);
    });
}

static void nll_case(int vocab, std::vector<int> targets, double offset) {
    const int rows = (int)targets.size();
    check("nll_rows", strf("rows=%d vocab=%d logits N(%g, 2^2), some targets -1", rows, vocab, offset), 1e-5, [&](Case& c) {
        Buf<float> logits(c.rng.normals((size_t)rows * vocab, 2.0, offset), "logits");
        Buf<int> target(targets, "target");
        Buf<double> out(rows, "out");
        poison(out);
        c.launch("nll_rows", rows, 1024, 0, {logits.p, target.p}, [&] { nll_rows(logits, target, out, vocab); });
        std::vector<double> got, ref, got_skip;
        for (int i = 0; i < rows; i++) {
            if (targets[i] < 0) {
                got_skip.push_back(out[i]);
                continue;
            }
            const float* z = logits.p + (size_t)i * vocab;
            double mx = -INFINITY, s = 0;
            for (int j = 0; j < vocab; j++) mx = std::max(mx, (double)z[j]);
            for (int j = 0; j < vocab; j++) s += std::exp(z[j] - mx);
            got.push_back(out[i]);
            ref.push_back(mx + std::log(s) - z[targets[i]]);
        }
        c.close(got, ref, 1);
        c.exact(got_skip, std::vector<double>(got_skip.size(), 0.0));
        c.keep(out);
    });
}

void test_rows() {
    for (bool res : {false, true}) {
        rmsnorm_case<float>(rmsnorm_f32, rmsnorm_residual_f32, 5, 2051, res);
        rmsnorm_case<bf16>(rmsnorm_bf16, rmsnorm_residual_bf16, 5, 2051, res);
        rmsnorm_case<f16>(rmsnorm_f16, rmsnorm_residual_f16, 5, 2051, res);
        rmsnorm_case<float>(rmsnorm_f32, rmsnorm_residual_f32, 3, 100, res);  // fewer elements than threads
    }
    rmsnorm_case<float>(rmsnorm_f32, rmsnorm_residual_f32, 2, 4096, true);
    layernorm_case<float>(layernorm_f32, 5, 2051, 0.0, false);
    layernorm_case<float>(layernorm_f32, 4, 4096, 100.0, false);
    layernorm_case<float>(layernorm_f32, 3, 100, -3.0, false);  // fewer elements than threads
    layernorm_case<float>(layernorm_f32, 5, 1000, 5.0, true);
    layernorm_case<bf16>(layernorm_bf16, 5, 2051, 1.0, false);
    layernorm_case<f16>(layernorm_f16, 5, 2051, 1.0, false);
    cosine_case(6, 1000);
    cosine_case(5, 77);
    nll_case(32000, {3, -1, 0, 31999, 17}, 80.0);
    nll_case(100, {-1, 5, 99, -1}, 0.0);
    nll_case(1000, {-1, -1}, 0.0);
    nll_case(50257, {50256, 12}, -30.0);
}
