package sleb.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
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
 * A real GPU through JCuda: its primary context (shared with cuBLAS), the kernel modules loaded from
 * the PTX resources, and cuBLAS (or none, when libcublas cannot load or -Dsleb.cuda.gemm=fallback).
 * Kernels and GEMMs run on one blocking stream of our own, so that decode steps can be captured into
 * CUDA graphs (capture is not allowed on the legacy default stream); copies use the legacy default
 * stream, which a blocking stream synchronises with both ways, so operations stay ordered and a
 * device-to-host copy waits for all the work before it.
 */
final class GpuDriver implements CudaDriver {
    private final String name;
    private final int computeMajor, computeMinor;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final List<CUmodule> modules = new ArrayList<>();
    private final CUstream stream = new CUstream();
    private final cublasHandle cublas;
    private CUdeviceptr cublasWorkspace;
    /** cuBLAS gets a workspace of its own: with the default one it may allocate while a graph is being captured. */
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

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

    /**
     * cuda:ordinal, made current, its modules loaded and cuBLAS set up.
     *
     * @throws IllegalStateException no usable GPU (with the reason)
     * @throws sleb.util.UsageException no such device, or compute capability below 8.0
     */
    GpuDriver(int ordinal) {
        String why = probe();
        if (why != null) throw new IllegalStateException("no CUDA GPU found: " + why + "; use --device cpu");
        int[] count = {0};
        cuDeviceGetCount(count);
        if (ordinal < 0 || ordinal >= count[0])
            throw new sleb.util.UsageException("cuda:" + ordinal + " does not exist; this machine has " + count[0] + " CUDA device(s)");
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
        for (Map.Entry<String, List<String>> m : Kernels.MODULES.entrySet()) {
            CUmodule mod = new CUmodule();
            cuModuleLoadData(mod, Kernels.ptx(m.getKey()));
            modules.add(mod);
            for (String fn : m.getValue()) {
                CUfunction f = new CUfunction();
                cuModuleGetFunction(f, mod, fn);
                functions.put(fn, f);
            }
        }
        cublas = openCublas();
    }

    /** cuBLAS on our stream with its own workspace, or null (with a one-line notice) to use our GEMM kernels. */
    private cublasHandle openCublas() {
        if (CudaDriver.fallbackGemmRequested()) {
            System.err.println("sleb: sleb.cuda.gemm=fallback: using the built-in GEMM kernels instead of cuBLAS");
            return null;
        }
        try {
            JCublas2.setExceptionsEnabled(true);
            cublasHandle h = new cublasHandle();
            JCublas2.cublasCreate(h);
            JCublas2.cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH);
            JCublas2.cublasSetStream(h, new cudaStream_t(stream));
            CUdeviceptr ws = new CUdeviceptr();
            cuMemAlloc(ws, CUBLAS_WORKSPACE_BYTES);
            cublasWorkspace = ws;
            JCublas2.cublasSetWorkspace(h, ws, CUBLAS_WORKSPACE_BYTES);
            return h;
        } catch (Throwable t) {
            System.err.println("sleb: cuBLAS (libcublas.so.12) could not be loaded (" + t.getMessage() + "); using the built-in wmma GEMM, which is slower");
            return null;
        }
    }

    @Override public String name() { return name; }
    @Override public int computeMajor() { return computeMajor; }
    @Override public int computeMinor() { return computeMinor; }
    @Override public boolean usesCublas() { return cublas != null; }
    @Override public void makeCurrent() { cuCtxSetCurrent(context); }

    @Override
    public long[] memInfo() {
        long[] free = {0}, total = {0};
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    @Override
    public CUdeviceptr alloc(long size, String what) {
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, size);
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains("OUT_OF_MEMORY")) return null;
            throw e;
        }
        return p;
    }

    @Override public void release(CUdeviceptr p) { cuMemFree(p); }
    @Override public void copyToDevice(CUdeviceptr dst, Pointer host, long bytes) { cuMemcpyHtoD(dst, host, bytes); }
    @Override public void copyToHost(Pointer host, CUdeviceptr src, long bytes) { cuMemcpyDtoH(host, src, bytes); }
    @Override public void copyOnDevice(CUdeviceptr dst, CUdeviceptr src, long bytes) { cuMemcpyDtoD(dst, src, bytes); }
    @Override public void fill32(CUdeviceptr dst, int bits, long count) { cuMemsetD32(dst, bits, count); }

    private CUfunction function(String fn) {
        CUfunction f = functions.get(fn);
        if (f == null) throw new IllegalArgumentException("no kernel " + fn);
        return f;
    }

    @Override
    public void allowSharedMemory(String fn, int bytes) {
        cuFuncSetAttribute(function(fn), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
    }

    @Override
    public void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, int smemAllowed, Object[] args) {
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

    @Override
    public boolean gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (cublas == null) return false;
        int type = t == DType.F32 ? cudaDataType.CUDA_R_32F : t == DType.BF16 ? cudaDataType.CUDA_R_16BF : cudaDataType.CUDA_R_16F;
        int compute = t == DType.F32 ? cublasComputeType.CUBLAS_COMPUTE_32F_PEDANTIC : cublasComputeType.CUBLAS_COMPUTE_32F;
        // Column-major view: C^T [n x m] = W^T^T ... i.e. op(W_cm)=T with W_cm [k x n], X_cm [k x m].
        JCublas2.cublasGemmEx(cublas, cublasOperation.CUBLAS_OP_T, cublasOperation.CUBLAS_OP_N, n, m, k,
                Pointer.to(new float[] {1f}), w, type, k, a, type, k, Pointer.to(new float[] {beta}),
                c, cudaDataType.CUDA_R_32F, n, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        return true;
    }

    @Override public void synchronize() { cuCtxSynchronize(); }

    private static final class CudaGraph implements Graph {
        final CUgraphExec exec;

        CudaGraph(CUgraphExec exec) { this.exec = exec; }
    }

    /** Nothing may allocate or copy through the legacy stream while capturing. */
    @Override
    public Graph capture(Runnable work) {
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
            return new CudaGraph(exec);
        } finally {
            cuGraphDestroy(graph);
        }
    }

    @Override public void replay(Graph g) { cuGraphLaunch(((CudaGraph) g).exec, stream); }
    @Override public void destroy(Graph g) { cuGraphExecDestroy(((CudaGraph) g).exec); }

    @Override
    public void close() {
        if (cublas != null) JCublas2.cublasDestroy(cublas);
        if (cublasWorkspace != null) cuMemFree(cublasWorkspace);
        cuStreamDestroy(stream);
        for (CUmodule m : modules) cuModuleUnload(m);
        modules.clear();
        cuDevicePrimaryCtxRelease(device);
    }
}
