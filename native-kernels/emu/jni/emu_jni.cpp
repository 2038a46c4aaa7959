// emu_jni.cpp - the emulator as a "device" for the Java CUDA backend (sleb.backend.cuda.EmuNative):
// memory, copies, kernel launches by name and a reference GEMM, so that CudaLoadedModel's host code and
// our kernels run together on the CPU. Built as libsleb-emu.so by `make kernels-emu` (emu.mk).
#include <jni.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "../host.h"
#include "../kernels.h"

namespace {
// A kernel called with its arguments' raw bits, as Java passes them: pointers and ints widened to
// 64 bits, floats as their IEEE bit pattern in the low 32 bits.
typedef void (*Call)(const jlong* a);

template <typename T> T ptr(jlong v) { return reinterpret_cast<T>(static_cast<uintptr_t>(v)); }
int i32(jlong v) { return static_cast<int>(v); }
long long i64(jlong v) { return static_cast<long long>(v); }
float f32(jlong v) {
    uint32_t bits = static_cast<uint32_t>(v);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#define PF(i) ptr<float*>(a[i])
#define PI(i) ptr<int*>(a[i])
#define PB(i) ptr<bf16*>(a[i])
#define PH(i) ptr<f16*>(a[i])
#define PD(i) ptr<double*>(a[i])
#define P2(i) ptr<float2*>(a[i])
#define I(i) i32(a[i])
#define L(i) i64(a[i])
#define F(i) f32(a[i])

const std::map<std::string, Call>& calls() {
    static const std::map<std::string, Call> table = {
        {"rmsnorm_f32", [](const jlong* a) { rmsnorm_f32(PF(0), PF(1), PF(2), I(3), F(4)); }},
        {"rmsnorm_bf16", [](const jlong* a) { rmsnorm_bf16(PF(0), PF(1), PB(2), I(3), F(4)); }},
        {"rmsnorm_f16", [](const jlong* a) { rmsnorm_f16(PF(0), PF(1), PH(2), I(3), F(4)); }},
        {"rmsnorm_residual_f32", [](const jlong* a) { rmsnorm_residual_f32(PF(0), PF(1), PF(2), PF(3), I(4), F(5)); }},
        {"rmsnorm_residual_bf16", [](const jlong* a) { rmsnorm_residual_bf16(PF(0), PF(1), PF(2), PB(3), I(4), F(5)); }},
        {"rmsnorm_residual_f16", [](const jlong* a) { rmsnorm_residual_f16(PF(0), PF(1), PF(2), PH(3), I(4), F(5)); }},
        {"layernorm_f32", [](const jlong* a) { layernorm_f32(PF(0), PF(1), PF(2), PF(3), I(4), F(5)); }},
        {"layernorm_bf16", [](const jlong* a) { layernorm_bf16(PF(0), PF(1), PF(2), PB(3), I(4), F(5)); }},
        {"layernorm_f16", [](const jlong* a) { layernorm_f16(PF(0), PF(1), PF(2), PH(3), I(4), F(5)); }},
        {"rope_adjacent", [](const jlong* a) { rope_adjacent(PF(0), P2(1), I(2), I(3), PI(4), I(5), I(6), I(7), I(8)); }},
        {"rope_half", [](const jlong* a) { rope_half(PF(0), P2(1), I(2), I(3), PI(4), I(5), I(6), I(7), I(8)); }},
        {"add_bias", [](const jlong* a) { add_bias(PF(0), PF(1), I(2), I(3), I(4)); }},
        {"attention_prefill", [](const jlong* a) {
             attention_prefill(PF(0), I(1), PF(2), PF(3), I(4), L(5), PF(6), I(7), I(8), I(9), I(10), I(11), I(12), F(13), I(14));
         }},
        {"attention_decode", [](const jlong* a) {
             attention_decode(PF(0), I(1), PF(2), PF(3), I(4), L(5), PF(6), I(7), I(8), PI(9), I(10), I(11), I(12), F(13), I(14));
         }},
        {"kv_append", [](const jlong* a) { kv_append(PF(0), I(1), I(2), I(3), PF(4), PF(5), I(6), I(7), PI(8), I(9), I(10)); }},
        {"swiglu_f32", [](const jlong* a) { swiglu_f32(PF(0), PF(1), I(2), I(3)); }},
        {"swiglu_bf16", [](const jlong* a) { swiglu_bf16(PF(0), PB(1), I(2), I(3)); }},
        {"swiglu_f16", [](const jlong* a) { swiglu_f16(PF(0), PH(1), I(2), I(3)); }},
        {"bias_relu_f32", [](const jlong* a) { bias_relu_f32(PF(0), PF(1), PF(2), I(3), I(4)); }},
        {"bias_relu_bf16", [](const jlong* a) { bias_relu_bf16(PF(0), PF(1), PB(2), I(3), I(4)); }},
        {"bias_relu_f16", [](const jlong* a) { bias_relu_f16(PF(0), PF(1), PH(2), I(3), I(4)); }},
        {"position_embedding_add_f32", [](const jlong* a) { position_embedding_add_f32(PF(0), PF(1), I(2), I(3), PI(4), I(5), I(6)); }},
        {"position_embedding_add_bf16", [](const jlong* a) { position_embedding_add_bf16(PF(0), PB(1), I(2), I(3), PI(4), I(5), I(6)); }},
        {"position_embedding_add_f16", [](const jlong* a) { position_embedding_add_f16(PF(0), PH(1), I(2), I(3), PI(4), I(5), I(6)); }},
        {"embedding_f32", [](const jlong* a) { embedding_f32(PI(0), PF(1), PF(2), I(3)); }},
        {"embedding_bf16", [](const jlong* a) { embedding_bf16(PI(0), PB(1), PF(2), I(3)); }},
        {"embedding_f16", [](const jlong* a) { embedding_f16(PI(0), PH(1), PF(2), I(3)); }},
        {"f32_to_bf16", [](const jlong* a) { f32_to_bf16(PF(0), PB(1), L(2)); }},
        {"f32_to_f16", [](const jlong* a) { f32_to_f16(PF(0), PH(1), L(2)); }},
        {"bf16_to_f32", [](const jlong* a) { bf16_to_f32(PB(0), PF(1), L(2)); }},
        {"f16_to_f32", [](const jlong* a) { f16_to_f32(PH(0), PF(1), L(2)); }},
        {"cosine_rows", [](const jlong* a) { cosine_rows(PF(0), PF(1), PD(2), I(3)); }},
        {"nll_rows", [](const jlong* a) { nll_rows(PF(0), PI(1), PD(2), I(3)); }},
        {"gemm_wmma_bf16", [](const jlong* a) { gemm_wmma_bf16(PB(0), PB(1), PF(2), I(3), I(4), I(5), I(6), F(7), F(8)); }},
        {"gemm_wmma_f16", [](const jlong* a) { gemm_wmma_f16(PH(0), PH(1), PF(2), I(3), I(4), I(5), I(6), F(7), F(8)); }},
        {"gemm_f32", [](const jlong* a) { gemm_f32(PF(0), PF(1), PF(2), I(3), I(4), I(5), I(6), F(7), F(8)); }},
    };
    return table;
}

std::mutex lock;  // one launch at a time: kernels' static __shared__ arrays are process-wide here

float widen(const void* p, int dtype, size_t i) {
    switch (dtype) {
        case 0: return static_cast<const float*>(p)[i];
        case 1: return __bfloat162float(static_cast<const bf16*>(p)[i]);
        default: return __half2float(static_cast<const f16*>(p)[i]);
    }
}

jstring str(JNIEnv* env, const std::string& s) { return s.empty() ? nullptr : env->NewStringUTF(s.c_str()); }
}  // namespace

extern "C" {
JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_init(JNIEnv*, jclass) { emu::config.handle_signals = false; }

JNIEXPORT jlong JNICALL Java_sleb_backend_cuda_EmuNative_alloc(JNIEnv* env, jclass, jlong bytes, jstring what) {
    const char* w = env->GetStringUTFChars(what, nullptr);
    std::lock_guard<std::mutex> g(lock);
    void* p = emu::device_alloc(static_cast<size_t>(bytes), w);  // the name is copied
    env->ReleaseStringUTFChars(what, w);
    return static_cast<jlong>(reinterpret_cast<uintptr_t>(p));
}

JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_free(JNIEnv*, jclass, jlong p) {
    std::lock_guard<std::mutex> g(lock);
    emu::device_free(ptr<void*>(p));
}

// Host arrays of any primitive type: byte counts, as cuMemcpy takes them.
JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_copyIn(JNIEnv* env, jclass, jlong dst, jobject array, jlong offset, jlong bytes) {
    void* src = env->GetPrimitiveArrayCritical(static_cast<jarray>(array), nullptr);
    memcpy(ptr<void*>(dst), static_cast<char*>(src) + offset, static_cast<size_t>(bytes));
    env->ReleasePrimitiveArrayCritical(static_cast<jarray>(array), src, JNI_ABORT);
}

JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_copyOut(JNIEnv* env, jclass, jobject array, jlong offset, jlong src, jlong bytes) {
    void* dst = env->GetPrimitiveArrayCritical(static_cast<jarray>(array), nullptr);
    memcpy(static_cast<char*>(dst) + offset, ptr<const void*>(src), static_cast<size_t>(bytes));
    env->ReleasePrimitiveArrayCritical(static_cast<jarray>(array), dst, 0);
}

JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_copy(JNIEnv*, jclass, jlong dst, jlong src, jlong bytes) {
    memmove(ptr<void*>(dst), ptr<const void*>(src), static_cast<size_t>(bytes));
}

// null on success, else the emulator's message (divergence, bad shuffle, unknown kernel, ...).
JNIEXPORT jstring JNICALL Java_sleb_backend_cuda_EmuNative_launch(JNIEnv* env, jclass, jstring name, jint gx, jint gy, jint gz, jint bx,
                                                                   jint by, jint smem, jlongArray args) {
    const char* n = env->GetStringUTFChars(name, nullptr);
    std::string kernel(n);
    env->ReleaseStringUTFChars(name, n);
    auto it = calls().find(kernel);
    if (it == calls().end()) return str(env, "emulator: no kernel " + kernel);
    jsize count = env->GetArrayLength(args);
    jlong a[32] = {0};
    if (count > 32) return str(env, "emulator: too many arguments for " + kernel);
    env->GetLongArrayRegion(args, 0, count, a);
    Call call = it->second;
    std::lock_guard<std::mutex> g(lock);
    std::string err = emu::launch(kernel.c_str(), dim3(gx, gy, gz), dim3(bx, by, 1), static_cast<size_t>(smem), [&] { call(a); });
    return str(env, err);
}

// The GEMM cuBLAS does for the backend: C[m][n] = sum_k A[m][k] * W[n][k] + beta * C[m][n], inputs in
// dtype (0 f32, 1 bf16, 2 f16) widened to fp32, products summed in double, C fp32 with row stride n.
JNIEXPORT void JNICALL Java_sleb_backend_cuda_EmuNative_gemm(JNIEnv*, jclass, jint dtype, jlong A, jlong W, jlong C, jint m, jint n, jint k,
                                                             jfloat beta) {
    const void* a = ptr<const void*>(A);
    const void* w = ptr<const void*>(W);
    float* c = ptr<float*>(C);
    for (jint i = 0; i < m; i++)
        for (jint j = 0; j < n; j++) {
            double s = 0;
            for (jint q = 0; q < k; q++)
                s += static_cast<double>(widen(a, dtype, static_cast<size_t>(i) * k + q)) * widen(w, dtype, static_cast<size_t>(j) * k + q);
            float* dst = c + static_cast<size_t>(i) * n + j;
            *dst = static_cast<float>(s + (beta != 0.0f ? static_cast<double>(beta) * *dst : 0.0));
        }
}
}
