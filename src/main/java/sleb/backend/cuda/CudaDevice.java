package sleb.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;
import sleb.model.DType;

/**
 * One CUDA device: its primary context (shared with cuBLAS), the kernel modules, a caching allocator
 * and the GEMM (cuBLAS, or our wmma kernel when libcublas cannot load). Kernels and GEMMs run on one
 * blocking stream of our own, so that decode steps can be captured into CUDA graphs (capture is not
 * allowed on the legacy default stream); copies use the legacy default stream, which a blocking
 * stream synchronises with both ways, so operations stay ordered and a device-to-host copy waits for
 * all the work before it.
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
    final CUstream stream = new CUstream();
    private CUdeviceptr cublasWorkspace;
    /** cuBLAS gets a workspace of its own: with the default one it may allocate while a graph is being captured. */
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;
    /** Free blocks by exact (rounded) size: activations of a given shape come and go in SLEB loops. */
    private final Map<Long, ArrayDeque<CUdeviceptr>> pool = new HashMap<>();

    private static String probeFailure;
    /** Non-null for a stand-in without a GPU (tests of the host code); see {@link DryRun}. */
    final DryRun dry;
    /** An emulated device runs the fallback GEMM kernels (instead of its reference GEMM) under -Dsleb.cuda.gemm=fallback. */
    private final boolean dryKernelGemm;
    private final KernelSignatures signatures = KernelSignatures.ofResources();

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

    /** A device with no GPU behind it: the host code runs, launches are checked and recorded (tests only). */
    static CudaDevice dryRun(long memoryBytes) { return new CudaDevice(new DryRun(memoryBytes), "dry run (no GPU)"); }

    /** A device whose kernels run on the CPU emulator (libsleb-emu.so): the whole backend, slowly, without a GPU (tests only). */
    static CudaDevice emulated(long memoryBytes) { return new CudaDevice(new EmulatedDevice(memoryBytes), "CPU emulator (no GPU)"); }

    private CudaDevice(DryRun dry, String name) {
        this.dry = dry;
        dryKernelGemm = dry instanceof EmulatedDevice && fallbackGemmRequested();
        ordinal = 0;
        this.name = name;
        computeMajor = 9;
        computeMinor = 0;
        cublas = null;
    }

    CudaDevice(int ordinal) {
        dry = null;
        dryKernelGemm = false;
        String why = probe();
        if (why != null) throw new IllegalStateException("no CUDA GPU found: " + why + "; use --device cpu");
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count)
            throw new sleb.util.UsageException("cuda:" + ordinal + " does not exist; this machine has " + count + " CUDA device(s)");
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
            throw new sleb.util.UsageException("cuda:" + ordinal + " " + name + " has compute capability " + computeMajor + "."
                    + computeMinor + "; the kernels need 8.0 or newer (Ampere); use --device cpu");
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT);
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
        if (fallbackGemmRequested()) {
            notice = "sleb.cuda.gemm=fallback: using the built-in GEMM kernels instead of cuBLAS";
        } else {
            try {
                JCublas2.setExceptionsEnabled(true);
                h = new cublasHandle();
                JCublas2.cublasCreate(h);
                JCublas2.cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH);
                JCublas2.cublasSetStream(h, new cudaStream_t(stream));
                cublasWorkspace = alloc(CUBLAS_WORKSPACE_BYTES, "cuBLAS workspace");
                JCublas2.cublasSetWorkspace(h, cublasWorkspace, CUBLAS_WORKSPACE_BYTES);
            } catch (Throwable t) {
                h = null;
                notice = "cuBLAS (libcublas.so.12) could not be loaded (" + t.getMessage() + "); using the built-in wmma GEMM, which is slower";
            }
        }
        cublas = h;
        if (notice != null) System.err.println("sleb: " + notice);
    }

    /** -Dsleb.cuda.gemm=fallback: our GEMM kernels instead of cuBLAS (tests of those kernels). */
    private static boolean fallbackGemmRequested() { return "fallback".equals(System.getProperty("sleb.cuda.gemm")); }

    boolean usesCublas() { return cublas != null; }

    String describe() { return "cuda:" + ordinal + " " + name + " (sm_" + computeMajor + computeMinor + ", " + (cublas != null ? "cuBLAS" : "fallback GEMM") + ")"; }

    void makeCurrent() { if (dry == null) cuCtxSetCurrent(context); }

    long[] memInfo() {
        if (dry != null) return new long[] {dry.free(), dry.memory};
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
            CUdeviceptr p = q.pop();
            if (dry != null) dry.reused(p);
            return p;
        }
        if (dry != null) return dryAlloc(size, what);
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

    private CUdeviceptr dryAlloc(long size, String what) {
        CUdeviceptr p = dry.alloc(size, what);
        if (p == null) {
            trim();
            p = dry.alloc(size, what);
        }
        if (p == null) throw new CudaOutOfMemoryException("cuda:" + ordinal + " " + name, what, size, dry.free(), dry.memory);
        sizes.put(p, size);
        return p;
    }

    /** Returns a block to the pool (kept for reuse, freed by {@link #trim} or close). */
    void free(CUdeviceptr p) {
        if (p == null) return;
        Long size = sizes.get(p);
        if (size == null) throw new IllegalStateException("free of a pointer this device did not allocate");
        if (dry != null) dry.pooled(p);
        pool.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
    }

    /** Frees every pooled block back to the driver. */
    void trim() {
        for (ArrayDeque<CUdeviceptr> q : pool.values())
            for (CUdeviceptr p : q) {
                sizes.remove(p);
                freeNow(p);
            }
        pool.clear();
    }

    /** Releases a block to the driver at once (weights). */
    void release(CUdeviceptr p) {
        if (p == null || sizes.remove(p) == null) return;
        freeNow(p);
    }

    private void freeNow(CUdeviceptr p) {
        if (dry != null) dry.released(p);
        else cuMemFree(p);
    }

    void upload(CUdeviceptr dst, Pointer src, long bytes) {
        if (dry != null) dry.copyToDevice(dst, src, bytes);
        else cuMemcpyHtoD(dst, src, bytes);
    }

    CUdeviceptr uploadFloats(float[] a, String what) {
        CUdeviceptr p = alloc(4L * a.length, what);
        upload(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    CUdeviceptr uploadInts(int[] a, String what) {
        CUdeviceptr p = alloc(4L * a.length, what);
        upload(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    void download(Pointer dst, CUdeviceptr src, long bytes) {
        if (dry != null) dry.copyToHost(dst, src, bytes);
        else cuMemcpyDtoH(dst, src, bytes);
    }

    float[] downloadFloats(CUdeviceptr p, int n) {
        float[] a = new float[n];
        download(Pointer.to(a), p, 4L * n);
        return a;
    }

    double[] downloadDoubles(CUdeviceptr p, int n) {
        double[] a = new double[n];
        download(Pointer.to(a), p, 8L * n);
        return a;
    }

    /** Sets count 32-bit words at p to bits (benchmark inputs). */
    void fill32(CUdeviceptr p, int bits, long count) {
        if (dry != null) {
            dry.fill32(p, bits, count);
        } else {
            cuMemsetD32(p, bits, count);
        }
    }

    /** Device-to-device copy, ordered after the work before it. */
    void copy(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        if (dry != null) dry.copyOnDevice(dst, src, bytes);
        else cuMemcpyDtoD(dst, src, bytes);
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
        if (dry == null) cuFuncSetAttribute(function(fn), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        smemOptIn.put(fn, bytes);
    }

    /** Launches a kernel; args are CUdeviceptr/Pointer, Integer, Long, Float or Double, in the kernel's order. */
    void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, Object... args) {
        signatures.check(fn, args);
        if (dry != null) {
            dry.launch(fn, gx, gy, gz, bx, by, smem, smemOptIn.getOrDefault(fn, 0), args);
            return;
        }
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
        cuLaunchKernel(function(fn), gx, gy, gz, bx, by, 1, smem, stream, Pointer.to(ps), null);
    }

    /**
     * C[m][n] = sum_k A[m][k] * W[n][k] + beta * C[m][n]: activations A [M][K] and weights W [N][K]
     * (Hugging Face [out][in]) in dtype t, C fp32 [M][N]; fp32 accumulation, no TF32.
     */
    void gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (m == 0) return;
        if (dry != null && !dryKernelGemm) {
            dry.gemm(a, w, c, m, n, k, t == DType.F32 ? 0 : t == DType.BF16 ? 1 : 2, beta);
        } else if (cublas != null) {
            int type = t == DType.F32 ? cudaDataType.CUDA_R_32F : t == DType.BF16 ? cudaDataType.CUDA_R_16BF : cudaDataType.CUDA_R_16F;
            int compute = t == DType.F32 ? cublasComputeType.CUBLAS_COMPUTE_32F_PEDANTIC : cublasComputeType.CUBLAS_COMPUTE_32F;
            // Column-major view: C^T [n x m] = W^T^T ... i.e. op(W_cm)=T with W_cm [k x n], X_cm [k x m].
            JCublas2.cublasGemmEx(cublas, cublasOperation.CUBLAS_OP_T, cublasOperation.CUBLAS_OP_N, n, m, k,
                    Pointer.to(new float[] {1f}), w, type, k, a, type, k, Pointer.to(new float[] {beta}),
                    c, cudaDataType.CUDA_R_32F, n, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        } else {
            CudaOps.gemmKernel(this, t, a, w, c, m, n, k, beta);
        }
    }

    void synchronize() { if (dry == null) cuCtxSynchronize(); }

    /** A device address of 0, for the kernels' optional pointer arguments. */
    static final CUdeviceptr NULL = new CUdeviceptr();

    /** An executable graph: the CUDA one, or a dry run's recorded launches. */
    static final class Graph {
        final CUgraphExec exec;
        final java.util.List<DryRun.Launch> dryLaunches;

        Graph(CUgraphExec exec, java.util.List<DryRun.Launch> dryLaunches) {
            this.exec = exec;
            this.dryLaunches = dryLaunches;
        }
    }

    /**
     * Records the launches {@code work} makes on this device's stream into an executable CUDA graph
     * instead of running them. Nothing may allocate or copy through the legacy stream meanwhile.
     */
    Graph capture(Runnable work) {
        if (dry != null) return new Graph(null, dry.capture(work));
        makeCurrent();
        CUgraph graph = new CUgraph();
        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            work.run();
        } finally {
            cuStreamEndCapture(stream, graph); // also ends a capture that failed part-way
        }
        try {
            CUgraphExec exec = new CUgraphExec();
            cuGraphInstantiate(exec, graph, 0);
            return new Graph(exec, null);
        } finally {
            cuGraphDestroy(graph);
        }
    }

    void replay(Graph g) {
        if (dry != null) dry.replay(g.dryLaunches);
        else cuGraphLaunch(g.exec, stream);
    }

    void destroy(Graph g) { if (g != null && g.exec != null) cuGraphExecDestroy(g.exec); }

    @Override
    public void close() {
        makeCurrent();
        trim();
        for (CUdeviceptr p : new java.util.ArrayList<>(sizes.keySet())) freeNow(p);
        sizes.clear();
        if (dry != null) return;
        if (cublas != null) JCublas2.cublasDestroy(cublas);
        cuStreamDestroy(stream);
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        cuDevicePrimaryCtxRelease(device);
    }
}
