// kernels.h - prototypes of the extern "C" kernels in native-kernels/*.cu, for the test program.
// emu.mk force-includes this file into every kernel translation unit as well, so a prototype that
// no longer matches its kernel is a compile error ("conflicting declaration of C function").
#pragma once
#include "include/emu.h"
#include <cuda_bf16.h>
#include <cuda_fp16.h>

typedef __nv_bfloat16 bf16;
typedef __half f16;

extern "C" {
#define RMSNORM_PROTOS(S, T)                                                              \
    void rmsnorm_##S(const float* x, const float* w, T* out, int dim, float eps);         \
    void rmsnorm_residual_##S(float* x, const float* r, const float* w, T* out, int dim, float eps);
RMSNORM_PROTOS(f32, float)
RMSNORM_PROTOS(bf16, bf16)
RMSNORM_PROTOS(f16, f16)
#undef RMSNORM_PROTOS

#define LAYERNORM_PROTOS(S, T) void layernorm_##S(const float* x, const float* w, const float* b, T* out, int dim, float eps);
LAYERNORM_PROTOS(f32, float)
LAYERNORM_PROTOS(bf16, bf16)
LAYERNORM_PROTOS(f16, f16)
#undef LAYERNORM_PROTOS

void rope_adjacent(float* qkv, const float2* cs, int T, int pos0, const int* pos_dev, int stride, int nH, int nKv, int hd);
void rope_half(float* qkv, const float2* cs, int T, int pos0, const int* pos_dev, int stride, int nH, int nKv, int hd);
void add_bias(float* y, const float* b, int rows, int n, int stride);

void attention_prefill(const float* q, int q_row, const float* k, const float* v, int kv_row, long long kv_batch, float* out,
                       int out_row, int T, int pos0, int nH, int nKv, int hd, float scale, int window);
void attention_decode(const float* q, int q_row, const float* k, const float* v, int kv_row, long long kv_batch, float* out,
                      int out_row, int len, const int* pos_dev, int nH, int nKv, int hd, float scale, int window);
void kv_append(const float* qkv, int stride, int kcol, int vcol, float* kc, float* vc, int T, int pos0, const int* pos_dev,
               int maxLen, int kvDim);

void swiglu_f32(const float* gu, float* out, int rows, int H);
void swiglu_bf16(const float* gu, bf16* out, int rows, int H);
void swiglu_f16(const float* gu, f16* out, int rows, int H);

void bias_relu_f32(const float* h, const float* b, float* out, int rows, int n);
void bias_relu_bf16(const float* h, const float* b, bf16* out, int rows, int n);
void bias_relu_f16(const float* h, const float* b, f16* out, int rows, int n);

void position_embedding_add_f32(float* x, const float* table, int T, int pos0, const int* pos_dev, int offset, int dim);
void position_embedding_add_bf16(float* x, const bf16* table, int T, int pos0, const int* pos_dev, int offset, int dim);
void position_embedding_add_f16(float* x, const f16* table, int T, int pos0, const int* pos_dev, int offset, int dim);

void embedding_f32(const int* ids, const float* table, float* out, int dim);
void embedding_bf16(const int* ids, const bf16* table, float* out, int dim);
void embedding_f16(const int* ids, const f16* table, float* out, int dim);

void f32_to_bf16(const float* s, bf16* d, long long n);
void f32_to_f16(const float* s, f16* d, long long n);
void bf16_to_f32(const bf16* s, float* d, long long n);
void f16_to_f32(const f16* s, float* d, long long n);

void cosine_rows(const float* a, const float* b, double* out, int dim);
void nll_rows(const float* logits, const int* target, double* out, int vocab);

void gemm_wmma_bf16(const bf16* A, const bf16* B, float* C, int M, int N, int K, int ldc, float alpha, float beta);
void gemm_wmma_f16(const f16* A, const f16* B, float* C, int M, int N, int K, int ldc, float alpha, float beta);
void gemm_f32(const float* A, const float* B, float* C, int M, int N, int K, int ldc, float alpha, float beta);
}
