package sleb.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.cudaDataType;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import sleb.model.DType;

/**
 * One CUDA device: its primary context (shared with cuBLAS), the kernel modules, a caching allocator
 * and the GEMM (cuBLAS, or our wmma kernel when libcublas cannot load). Everything runs on the legacy
 * default stream, so operations are ordered and a device-to-host copy waits for all of them.
 */
final class CudaDevice implements AutoCloseable {
    final int ordinal;
    final String name;
    final int computeMajor, computeMinor;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final cublasHandle cublas;
    private final String gemmNotice;
    /** Free blocks by exact (rounded) size: activations of a given shape come and go in SLEB loops. */
    private final Map<Long, ArrayDeque<CUdeviceptr>> pool = new HashMap<>();
    private long pooledBytes;

    private static String probeFailure;

    /** null when a usable GPU is present; otherwise why not (JCuda would not load, cuInit failed, no device). */
    static synchronized String probe() {
        // After a failed native load JCuda only says "Could not initialize class", so the first reason is kept.
        if (probeFailure != null) return probeFailure;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] n = {0};
            cuDeviceGetCount(n);
            return n[0] > 0 ? null : "the CUDA driver reports 0 devices";
        } catch (Throwable t) {
            return probeFailure = oneLine(t);
        }
    }

    /** JCuda's load errors carry whole stack traces; the last "...Error: ..." line says what was missing. */
    static String oneLine(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        if (msg.contains("libcuda.so")) return "the NVIDIA driver (libcuda.so.1) is not installed";
        String best = msg.lines().findFirst().orElse("");
        for (String line : msg.lines().toArray(String[]::new))
            if (line.contains("Error: ") && !line.startsWith("\t") && !line.startsWith(" ")) best = line.trim();
        return t.getClass().getSimpleName() + ": " + best;
    }

    static int deviceCount() {
        int[] n = {0};
        cuDeviceGetCount(n);
        return n[0];
    }

    CudaDevice(int ordinal) {
        String why = probe();
        if (why != null) throw new IllegalStateException("no CUDA GPU found: " + why + "; use --device cpu");
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count)
            throw new IllegalArgumentException("cuda:" + ordinal + " does not exist; this machine has " + count + " CUDA device(s)");
        this.ordinal = ordinal;
        cuDeviceGet(device, ordinal);
        byte[] nm = new byte[256];
        cuDeviceGetName(nm, nm.length, device);
        int len = 0;
        while (len < nm.length && nm[len] != 0) len++;
        name = new String(nm, 0, len);
        int[] v = {0};
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        computeMajor = v[0];
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        computeMinor = v[0];
        if (computeMajor < 8)
            throw new IllegalStateException("cuda:" + ordinal + " " + name + " has compute capability " + computeMajor + "."
                    + computeMinor + "; the kernels need 8.0 or newer (Ampere)");
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        for (Map.Entry<String, java.util.List<String>> m : Kernels.MODULES.entrySet()) {
            CUmodule mod = new CUmodule();
            cuModuleLoadData(mod, Kernels.ptx(m.getKey()));
            modules.put(m.getKey(), mod);
            for (String fn : m.getValue()) {
                CUfunction f = new CUfunction();
                cuModuleGetFunction(f, mod, fn);
                functions.put(fn, f);
            }
        }
        cublasHandle h = null;
        String notice = null;
        if ("fallback".equals(System.getProperty("sleb.cuda.gemm"))) {
            notice = "sleb.cuda.gemm=fallback: using the built-in GEMM kernels instead of cuBLAS";
        } else {
            try {
                JCublas2.setExceptionsEnabled(true);
                h = new cublasHandle();
                JCublas2.cublasCreate(h);
                JCublas2.cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH);
            } catch (Throwable t) {
                h = null;
                notice = "cuBLAS (libcublas.so.12) could not be loaded (" + t.getMessage() + "); using the built-in wmma GEMM, which is slower";
            }
        }
        cublas = h;
        gemmNotice = notice;
        if (notice != null) System.err.println("sleb: " + notice);
    }

    boolean usesCublas() { return cublas != null; }

    String describe() { return "cuda:" + ordinal + " " + name + " (sm_" + computeMajor + computeMinor + ", " + (cublas != null ? "cuBLAS" : "fallback GEMM") + ")"; }

    void makeCurrent() { cuCtxSetCurrent(context); }

    long[] memInfo() {
        long[] free = {0}, total = {0};
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    // ---- memory ---------------------------------------------------------------------------------

    private static long round(long bytes) {
        long g = bytes <= (1 << 20) ? 512 : (1 << 20);
        return Math.max(g, (bytes + g - 1) / g * g);
    }

    /** A device block of at least {@code bytes}; {@code what} names it in an out-of-memory message. */
    CUdeviceptr alloc(long bytes, String what) {
        long size = round(bytes);
        ArrayDeque<CUdeviceptr> q = pool.get(size);
        if (q != null && !q.isEmpty()) {
            pooledBytes -= size;
            return q.pop();
        }
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, size);
        } catch (CudaException e) {
            if (!String.valueOf(e.getMessage()).contains("OUT_OF_MEMORY")) throw e;
            trim();
            try {
                cuMemAlloc(p, size);
            } catch (CudaException e2) {
                long[] info = memInfo();
                throw new CudaOutOfMemoryException("cuda:" + ordinal + " " + name, what, size, info[0], info[1]);
            }
        }
        sizes.put(p, size);
        return p;
    }

    private final Map<CUdeviceptr, Long> sizes = new HashMap<>();

    /** Returns a block to the pool (kept for reuse, freed by {@link #trim} or close). */
    void free(CUdeviceptr p) {
        if (p == null) return;
        Long size = sizes.get(p);
        if (size == null) throw new IllegalStateException("free of a pointer this device did not allocate");
        pool.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
        pooledBytes += size;
    }

    /** Frees every pooled block back to the driver. */
    void trim() {
        for (ArrayDeque<CUdeviceptr> q : pool.values())
            for (CUdeviceptr p : q) {
                sizes.remove(p);
                cuMemFree(p);
            }
        pool.clear();
        pooledBytes = 0;
    }

    /** Releases a block to the driver at once (weights). */
    void release(CUdeviceptr p) {
        if (p == null || sizes.remove(p) == null) return;
        cuMemFree(p);
    }

    void upload(CUdeviceptr dst, Pointer src, long bytes) { cuMemcpyHtoD(dst, src, bytes); }

    CUdeviceptr uploadFloats(float[] a, String what) {
        CUdeviceptr p = alloc(4L * a.length, what);
        cuMemcpyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    CUdeviceptr uploadInts(int[] a, String what) {
        CUdeviceptr p = alloc(4L * a.length, what);
        cuMemcpyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    float[] downloadFloats(CUdeviceptr p, int n) {
        float[] a = new float[n];
        cuMemcpyDtoH(Pointer.to(a), p, 4L * n);
        return a;
    }

    double[] downloadDoubles(CUdeviceptr p, int n) {
        double[] a = new double[n];
        cuMemcpyDtoH(Pointer.to(a), p, 8L * n);
        return a;
    }

    // ---- kernels --------------------------------------------------------------------------------

    CUfunction function(String fn) {
        CUfunction f = functions.get(fn);
        if (f == null) throw new IllegalArgumentException("no kernel " + fn);
        return f;
    }

    private final Map<String, Integer> smemOptIn = new HashMap<>();

    /** Lets {@code fn} use up to {@code bytes} of dynamic shared memory (needed above 48 KiB). */
    void allowSharedMemory(String fn, int bytes) {
        if (bytes <= 48 * 1024 || smemOptIn.getOrDefault(fn, 0) >= bytes) return;
        cuFuncSetAttribute(function(fn), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        smemOptIn.put(fn, bytes);
    }

    /** Launches a kernel; args are CUdeviceptr/Pointer, Integer, Long, Float or Double, in the kernel's order. */
    void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, Object... args) {
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Pointer) ps[i] = Pointer.to((Pointer) a);
            else if (a instanceof Integer) ps[i] = Pointer.to(new int[] {(Integer) a});
            else if (a instanceof Long) ps[i] = Pointer.to(new long[] {(Long) a});
            else if (a instanceof Float) ps[i] = Pointer.to(new float[] {(Float) a});
            else if (a instanceof Double) ps[i] = Pointer.to(new double[] {(Double) a});
            else throw new IllegalArgumentException("kernel argument " + i + " of " + fn + ": " + a);
        }
        cuLaunchKernel(function(fn), gx, gy, gz, bx, by, 1, smem, null, Pointer.to(ps), null);
    }

    /** A 1-D grid-stride launch over n elements. */
    void launchElementwise(String fn, long n, Object... args) {
        int blocks = (int) Math.min(65535L * 16, Math.max(1, (n + 255) / 256));
        launch(fn, blocks, 1, 1, 256, 1, 0, args);
    }

    static String suffix(DType t) {
        switch (t) {
            case F32: return "f32";
            case BF16: return "bf16";
            default: return "f16";
        }
    }

    /**
     * C[m][n] = sum_k A[m][k] * W[n][k] + beta * C[m][n]: activations A [M][K] and weights W [N][K]
     * (Hugging Face [out][in]) in dtype t, C fp32 [M][N]; fp32 accumulation, no TF32.
     */
    void gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (m == 0) return;
        if (cublas != null) {
            int type = t == DType.F32 ? cudaDataType.CUDA_R_32F : t == DType.BF16 ? cudaDataType.CUDA_R_16BF : cudaDataType.CUDA_R_16F;
            int compute = t == DType.F32 ? cublasComputeType.CUBLAS_COMPUTE_32F_PEDANTIC : cublasComputeType.CUBLAS_COMPUTE_32F;
            // Column-major view: C^T [n x m] = W^T^T ... i.e. op(W_cm)=T with W_cm [k x n], X_cm [k x m].
            JCublas2.cublasGemmEx(cublas, cublasOperation.CUBLAS_OP_T, cublasOperation.CUBLAS_OP_N, n, m, k,
                    Pointer.to(new float[] {1f}), w, type, k, a, type, k, Pointer.to(new float[] {beta}),
                    c, cudaDataType.CUDA_R_32F, n, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        } else if (t == DType.F32) {
            launch("gemm_f32", (n + 31) / 32, (m + 31) / 32, 1, 32, 8, 0, a, w, c, m, n, k, n, 1f, beta);
        } else {
            launch("gemm_wmma_" + suffix(t), (n + 63) / 64, (m + 63) / 64, 1, 128, 1, 0, a, w, c, m, n, k, n, 1f, beta);
        }
    }

    void synchronize() { cuCtxSynchronize(); }

    @Override
    public void close() {
        makeCurrent();
        trim();
        for (CUdeviceptr p : sizes.keySet()) cuMemFree(p);
        sizes.clear();
        if (cublas != null) JCublas2.cublasDestroy(cublas);
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        cuDevicePrimaryCtxRelease(device);
    }

    static final int FLOAT = Sizeof.FLOAT;
}
