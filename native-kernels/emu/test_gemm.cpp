// test_gemm.cpp - gemm_f32 and gemm_wmma_bf16/_f16 (C = alpha*A*B^T + beta*C) with M, N, K that are
// not multiples of the tiles, beta 0 (C is not read: it holds NaN) and beta 1.
#include "check.h"

template <typename T>
static void gemm_case(void (*kernel)(const T*, const T*, float*, int, int, int, int, float, float), int M, int N, int K, int ldc,
                      float alpha, float beta) {
    const bool wmma = !std::is_same<T, float>::value;
    const std::string name = wmma ? std::string("gemm_wmma_") + type_name<T>() : std::string("gemm_f32");
    check(name, strf("M=%d N=%d K=%d ldc=%d alpha=%g beta=%g", M, N, K, ldc, alpha, beta), 1e-5, [&](Case& c) {
        Buf<T> A(rounded<T>(c.rng.normals((size_t)M * K)), "A"), B(rounded<T>(c.rng.normals((size_t)N * K)), "B");
        const std::vector<float> c0 = beta != 0 ? c.rng.normals((size_t)M * ldc) : std::vector<float>((size_t)M * ldc, NAN);
        Buf<float> C(c0, "C");
        const dim3 grid = wmma ? dim3((N + 63) / 64, (M + 63) / 64) : dim3((N + 31) / 32, (M + 31) / 32);
        const dim3 block = wmma ? dim3(128) : dim3(32, 8);
        c.launch(name.c_str(), grid, block, 0, {A.p, B.p}, [&] { kernel(A, B, C, M, N, K, ldc, alpha, beta); });
        std::vector<double> got, ref, got_rest, ref_rest;  // columns N..ldc-1 are untouched
        for (int i = 0; i < M; i++)
            for (int j = 0; j < ldc; j++) {
                const size_t e = (size_t)i * ldc + j;
                if (j >= N) {
                    got_rest.push_back(C[e]);
                    ref_rest.push_back(c0[e]);
                    continue;
                }
                double acc = 0;
                for (int k = 0; k < K; k++) acc += value(A[(size_t)i * K + k]) * value(B[(size_t)j * K + k]);
                got.push_back(C[e]);
                ref.push_back(alpha * acc + (beta != 0 ? beta * (double)c0[e] : 0.0));
            }
        c.close(got, ref, N);
        c.exact(got_rest, ref_rest);
        c.keep(C);
    });
}

void test_gemm() {
    for (float beta : {0.0f, 1.0f}) {
        gemm_case<float>(gemm_f32, 37, 45, 70, 45, 1.0f, beta);
        gemm_case<float>(gemm_f32, 64, 96, 33, 96, 1.0f, beta);
        gemm_case<bf16>(gemm_wmma_bf16, 70, 130, 100, 130, 1.0f, beta);
        gemm_case<f16>(gemm_wmma_f16, 70, 130, 100, 130, 1.0f, beta);
    }
    gemm_case<float>(gemm_f32, 1, 1, 1, 1, 1.0f, 0.0f);
    gemm_case<float>(gemm_f32, 5, 50, 130, 57, 0.5f, 1.0f);
    gemm_case<bf16>(gemm_wmma_bf16, 5, 64, 16, 64, 1.0f, 0.0f);
    gemm_case<f16>(gemm_wmma_f16, 129, 65, 40, 71, 0.5f, 1.0f);
    gemm_case<bf16>(gemm_wmma_bf16, 64, 64, 64, 64, 1.0f, 1.0f);
}
