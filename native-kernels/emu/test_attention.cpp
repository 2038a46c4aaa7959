// test_attention.cpp - rope, kv_append, attention_prefill and attention_decode, with the launch
// configurations of CudaOps and the two key layouts CudaLoadedModel.block() uses: the K/V columns of the
// fused QKV rows (kv_row = qkvDim, kv_batch = T*qkvDim) and the KV cache [batch][maxLen][kvDim].
// Attention cases run with and without a sliding window (window w: query p sees keys p-w < j <= p);
// with a window the keys before it are NaN, so a kernel that reads one fails.
#include "check.h"

namespace {
struct Heads {
    int nH, nKv, hd;
    int qDim() const { return nH * hd; }
    int kvDim() const { return nKv * hd; }
    int qkvDim() const { return qDim() + 2 * kvDim(); }
    std::string str() const { return strf("nH=%d nKv=%d hd=%d", nH, nKv, hd); }
};

// Optional device position (const int* pos_dev): pd < 0 passes null.
struct PosDev {
    Buf<int> buf;
    int pd;
    explicit PosDev(int pd_) : buf(1, "pos_dev"), pd(pd_) { buf[0] = pd_; }
    const int* ptr() const { return pd < 0 ? nullptr : buf.p; }
    int add() const { return pd < 0 ? 0 : pd; }
};
std::string pd_str(int pd) { return pd < 0 ? "pos_dev=null" : strf("*pos_dev=%d", pd); }

// Softmax attention of one query over keys first..nkeys-1, in double.
void attend(const float* q, const float* k, const float* v, size_t kv_row, int first, int nkeys, int hd, float scale, double* out) {
    std::vector<double> s(nkeys);
    double mx = -INFINITY, sum = 0;
    for (int j = first; j < nkeys; j++) {
        double dot = 0;
        for (int d = 0; d < hd; d++) dot += (double)q[d] * k[j * kv_row + d];
        s[j] = dot * scale;
        mx = std::max(mx, s[j]);
    }
    for (int j = first; j < nkeys; j++) sum += (s[j] = std::exp(s[j] - mx));
    for (int d = 0; d < hd; d++) {
        double acc = 0;
        for (int j = first; j < nkeys; j++) acc += s[j] * v[j * kv_row + d];
        out[d] = acc / sum;
    }
}

// The first key a query at position p sees under a sliding window (0: none).
int first_key(int p, int window) { return window > 0 ? std::max(0, p - window + 1) : 0; }

// NaN wherever a kernel must not read: K/V cache rows past the valid keys and before the first visible one.
std::vector<float> cache_rows(Rng& rng, int B, int maxLen, int valid, int kvDim, int first = 0) {
    std::vector<float> c((size_t)B * maxLen * kvDim, NAN);
    for (int b = 0; b < B; b++)
        for (int j = first; j < valid; j++)
            for (int d = 0; d < kvDim; d++) c[((size_t)b * maxLen + j) * kvDim + d] = (float)rng.normal();
    return c;
}

void rope_case(bool half, int B, int T, int pos0, int pd, Heads h) {
    const char* name = half ? "rope_half" : "rope_adjacent";
    check(name, strf("B=%d T=%d pos0=%d %s %s", B, T, pos0, pd_str(pd).c_str(), h.str().c_str()), 1e-5, [&](Case& c) {
        PosDev pos(pd);
        const int rows = B * T, stride = h.qkvDim(), npos = pos0 + pos.add() + T, hh = h.hd / 2;
        std::vector<float> table((size_t)npos * hh * 2);  // exactly the positions used: a read past it faults
        for (int p = 0; p < npos; p++)
            for (int i = 0; i < hh; i++) {
                const double a = p * std::pow(10000.0, -2.0 * i / h.hd);
                table[((size_t)p * hh + i) * 2] = (float)std::cos(a);
                table[((size_t)p * hh + i) * 2 + 1] = (float)std::sin(a);
            }
        Buf<float2> cs(table.size() / 2, "cs");
        std::memcpy(cs.p, table.data(), table.size() * sizeof(float));
        const std::vector<float> x0 = c.rng.normals((size_t)rows * stride);
        Buf<float> qkv(x0, "qkv");
        c.launch(name, rows, 128, 0, {cs.p, pos.buf.p}, [&] {
            (half ? rope_half : rope_adjacent)(qkv, cs, T, pos0, pos.ptr(), stride, h.nH, h.nKv, h.hd);
        });
        std::vector<double> ref(x0.begin(), x0.end()), got = values(qkv), got_v, ref_v;
        for (int r = 0; r < rows; r++) {
            const int p = pos0 + pos.add() + r % T;
            for (int head = 0; head < h.nH + h.nKv; head++)
                for (int i = 0; i < hh; i++) {
                    const size_t base = (size_t)r * stride + head * h.hd;
                    const size_t ia = base + (half ? i : 2 * i), ib = base + (half ? i + hh : 2 * i + 1);
                    const double co = table[((size_t)p * hh + i) * 2], si = table[((size_t)p * hh + i) * 2 + 1];
                    ref[ia] = x0[ia] * co - (double)x0[ib] * si;
                    ref[ib] = x0[ia] * si + (double)x0[ib] * co;
                }
            for (int d = (h.nH + h.nKv) * h.hd; d < stride; d++) {  // V columns stay as they were
                got_v.push_back(got[(size_t)r * stride + d]);
                ref_v.push_back(ref[(size_t)r * stride + d]);
            }
        }
        c.close(got, ref, h.hd);
        c.exact(got_v, ref_v);
        c.keep(qkv);
    });
}

void kv_append_case(int B, int T, int pos0, int pd, Heads h, int maxLen) {
    check("kv_append", strf("B=%d T=%d pos0=%d %s %s maxLen=%d", B, T, pos0, pd_str(pd).c_str(), h.str().c_str(), maxLen), 0, [&](Case& c) {
        PosDev pos(pd);
        const int kvDim = h.kvDim(), stride = h.qkvDim();
        Buf<float> qkv(c.rng.normals((size_t)B * T * stride), "qkv");
        const std::vector<float> k0 = c.rng.normals((size_t)B * maxLen * kvDim), v0 = c.rng.normals((size_t)B * maxLen * kvDim);
        Buf<float> kc(k0, "k_cache"), vc(v0, "v_cache");
        c.launch("kv_append", B * T, 128, 0, {qkv.p, pos.buf.p}, [&] {
            kv_append(qkv, stride, h.qDim(), h.qDim() + kvDim, kc, vc, T, pos0, pos.ptr(), maxLen, kvDim);
        });
        std::vector<double> kref(k0.begin(), k0.end()), vref(v0.begin(), v0.end());
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int d = 0; d < kvDim; d++) {
                    const size_t dst = ((size_t)b * maxLen + pos0 + pos.add() + t) * kvDim + d, src = ((size_t)b * T + t) * stride;
                    kref[dst] = qkv[src + h.qDim() + d];
                    vref[dst] = qkv[src + h.qDim() + kvDim + d];
                }
        c.exact(values(kc), kref);
        c.exact(values(vc), vref);
        c.keep(kc);
        c.keep(vc);
    });
}

// Keys from the KV cache when maxLen > 0 (pos0 earlier keys), else from the fused rows (pos0 = 0).
void prefill_case(int B, int T, int pos0, Heads h, int maxLen, int window = 0) {
    const bool cache = maxLen > 0;
    const std::string layout = cache ? strf("cache maxLen=%d", maxLen) : std::string("fused qkv");
    check("attention_prefill", strf("B=%d T=%d pos0=%d %s, %s window=%d", B, T, pos0, h.str().c_str(), layout.c_str(), window), 1e-5, [&](Case& c) {
        const int qDim = h.qDim(), kvDim = h.kvDim(), qkvDim = h.qkvDim();
        const int first = first_key(pos0, window);  // no query of the call sees a key before this one
        std::vector<float> x = c.rng.normals((size_t)B * T * qkvDim, 1.5);
        for (size_t r = 0; r < (size_t)B * T; r++)
            for (int d = qDim; d < qkvDim; d++)
                if (cache || (int)(r % T) < first) x[r * qkvDim + d] = NAN;  // K/V the kernel must not read
        Buf<float> qkv(x, "qkv");
        Buf<float> kc(cache ? cache_rows(c.rng, B, maxLen, pos0 + T, kvDim, first) : std::vector<float>(1), "k_cache");
        Buf<float> vc(cache ? cache_rows(c.rng, B, maxLen, pos0 + T, kvDim, first) : std::vector<float>(1), "v_cache");
        Buf<float> out((size_t)B * T * qDim, "out");
        poison(out);
        const float* kp = cache ? kc.p : qkv.p + qDim;
        const float* vp = cache ? vc.p : qkv.p + qDim + kvDim;
        const int kv_row = cache ? kvDim : qkvDim;
        const long long kv_batch = cache ? (long long)maxLen * kvDim : (long long)T * qkvDim;
        const float scale = (float)(1.0 / std::sqrt((double)h.hd));
        const size_t smem = 4 * (32 * (h.hd + 1) + 32 * h.hd + 8 * h.hd);  // Kernels.prefillSmemBytes
        c.launch("attention_prefill", dim3((T + 7) / 8, h.nH, B), 256, smem, {qkv.p, kc.p, vc.p}, [&] {
            attention_prefill(qkv, qkvDim, kp, vp, kv_row, kv_batch, out, qDim, T, pos0, h.nH, h.nKv, h.hd, scale, window);
        });
        std::vector<double> ref(out.n);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int head = 0; head < h.nH; head++) {
                    const int kvh = head / (h.nH / h.nKv);
                    attend(qkv.p + ((size_t)b * T + t) * qkvDim + head * h.hd, kp + b * kv_batch + kvh * h.hd, vp + b * kv_batch + kvh * h.hd,
                           kv_row, first_key(pos0 + t, window), pos0 + t + 1, h.hd, scale, &ref[((size_t)b * T + t) * qDim + head * h.hd]);
                }
        c.close(values(out), ref, h.hd);
        c.keep(out);
    });
}

// One query per sequence over L = len (+ *pos_dev) cached keys; grid (nH, B), 8 warps.
void decode_case(int B, int len, int pd, Heads h, int window = 0) {
    check("attention_decode", strf("B=%d len=%d %s %s window=%d", B, len, pd_str(pd).c_str(), h.str().c_str(), window), 1e-5, [&](Case& c) {
        PosDev pos(pd);
        const int L = len + pos.add(), maxLen = L + 2, qDim = h.qDim(), kvDim = h.kvDim(), qkvDim = h.qkvDim();
        const int first = first_key(L - 1, window);
        std::vector<float> x = c.rng.normals((size_t)B * qkvDim, 1.5);
        for (int b = 0; b < B; b++)
            for (int d = qDim; d < qkvDim; d++) x[(size_t)b * qkvDim + d] = NAN;
        Buf<float> qkv(x, "qkv");
        Buf<float> kc(cache_rows(c.rng, B, maxLen, L, kvDim, first), "k_cache"), vc(cache_rows(c.rng, B, maxLen, L, kvDim, first), "v_cache");
        Buf<float> out((size_t)B * qDim, "out");
        poison(out);
        const long long kv_batch = (long long)maxLen * kvDim;
        const float scale = (float)(1.0 / std::sqrt((double)h.hd));
        c.launch("attention_decode", dim3(h.nH, B), 256, 4 * 8 * h.hd, {qkv.p, kc.p, vc.p, pos.buf.p}, [&] {
            attention_decode(qkv, qkvDim, kc, vc, kvDim, kv_batch, out, qDim, len, pos.ptr(), h.nH, h.nKv, h.hd, scale, window);
        });
        std::vector<double> ref(out.n);
        for (int b = 0; b < B; b++)
            for (int head = 0; head < h.nH; head++) {
                const int kvh = head / (h.nH / h.nKv);
                attend(qkv.p + (size_t)b * qkvDim + head * h.hd, kc.p + b * kv_batch + kvh * h.hd, vc.p + b * kv_batch + kvh * h.hd, kvDim, first, L,
                       h.hd, scale, &ref[(size_t)b * qDim + head * h.hd]);
            }
        c.close(values(out), ref, h.hd);
        c.keep(out);
    });
}
}  // namespace

void test_attention() {
    const Heads gqa64{8, 2, 64}, mha48{4, 4, 48}, gqa128{2, 1, 128}, mha8{4, 4, 8}, gqa8{8, 2, 8}, gqa256{2, 1, 256};
    for (bool half : {false, true}) {
        rope_case(half, 2, 5, 0, -1, gqa64);
        rope_case(half, 1, 3, 7, 5, gqa128);
        rope_case(half, 3, 1, 0, 9, Heads{2, 1, 8});
    }
    rope_case(false, 2, 13, 4, 0, mha48);

    kv_append_case(2, 5, 3, -1, gqa64, 10);
    kv_append_case(3, 1, 0, 6, Heads{5, 5, 32}, 7);  // the last row ends at the guard page
    kv_append_case(2, 4, 2, 3, mha48, 9);

    prefill_case(2, 45, 0, gqa64, 0);
    prefill_case(2, 70, 0, mha48, 0);
    prefill_case(1, 13, 0, gqa128, 0);
    prefill_case(2, 33, 0, gqa8, 0);
    prefill_case(1, 1, 0, gqa8, 0);
    prefill_case(2, 21, 37, gqa64, 61);
    prefill_case(2, 5, 60, mha8, 65);  // maxLen = pos0 + T: the last key row ends at the guard page
    prefill_case(2, 9, 30, gqa256, 42);
    prefill_case(1, 40, 3, mha48, 50);

    decode_case(2, 1, -1, gqa64);
    decode_case(2, 3, -1, mha48);
    decode_case(1, 7, -1, gqa8);
    decode_case(2, 8, -1, gqa128);
    decode_case(2, 9, -1, mha8);
    decode_case(2, 2, 5, gqa64);
    decode_case(2, 1, 12, gqa64);  // a graph-captured decode step: len = pos0 + 1 = 1, the position on the device
    decode_case(2, 300, -1, gqa64);
    decode_case(1, 1000, 37, Heads{4, 1, 128});
    decode_case(1, 20, 0, gqa256);

    // sliding windows: shorter than the sequence, not a multiple of the 32-key tile or the 8-row block, one
    // key, and longer than the sequence (no effect); with and without cached keys before the call
    prefill_case(2, 70, 0, gqa64, 0, 16);
    prefill_case(1, 45, 0, mha48, 0, 7);
    prefill_case(2, 40, 0, gqa8, 0, 1);
    prefill_case(1, 33, 0, gqa128, 0, 100);
    prefill_case(2, 21, 37, gqa64, 61, 24);
    prefill_case(1, 40, 3, mha48, 50, 33);
    prefill_case(2, 9, 30, gqa256, 42, 5);
    decode_case(2, 300, -1, gqa64, 16);
    decode_case(1, 1000, 37, Heads{4, 1, 128}, 100);
    decode_case(2, 9, -1, mha8, 1);
    decode_case(2, 2, 5, gqa64, 3);  // graph-captured step: the window start comes from the device position
    decode_case(2, 12, -1, gqa64, 64);
}
