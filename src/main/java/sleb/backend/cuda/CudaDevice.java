package sleb.backend.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.model.DType;

/**
 * One CUDA device as the backend uses it: a caching allocator with out-of-memory messages, copies,
 * kernel launches checked against the kernels' PTX parameter lists, the GEMM, and graph capture. What
 * does the work is a {@link CudaDriver}: a GPU through JCuda, a dry run or the CPU emulator (tests).
 * Launch geometry lives in {@link CudaOps}, one typed method per kernel.
 */
final class CudaDevice implements AutoCloseable {
    final int ordinal;
    final String name;
    final int computeMajor, computeMinor;
    private final CudaDriver driver;
    /** The dry-run driver, for tests to inspect its recorded launches and live blocks; null on a GPU. */
    final DryRun dry;
    private final KernelSignatures signatures = KernelSignatures.ofResources();
    /** Free blocks by exact (rounded) size: activations of a given shape come and go in SLEB loops. */
    private final Map<Long, ArrayDeque<CUdeviceptr>> pool = new HashMap<>();
    private final Map<CUdeviceptr, Long> sizes = new HashMap<>();
    private final Map<String, Integer> smemOptIn = new HashMap<>();

    /**
     * cuda:ordinal.
     *
     * @throws IllegalStateException no usable GPU (with the reason)
     * @throws sleb.util.UsageException no such device, or compute capability below 8.0
     */
    CudaDevice(int ordinal) { this(new GpuDriver(ordinal), ordinal); }

    /** A device with no GPU behind it: the host code runs, launches are checked and recorded (tests only). */
    static CudaDevice dryRun(long memoryBytes) { return new CudaDevice(new DryRun(memoryBytes, "dry run (no GPU)"), 0); }

    /** A device whose kernels run on the CPU emulator (libsleb-emu.so): the whole backend, slowly, without a GPU (tests only). */
    static CudaDevice emulated(long memoryBytes) { return new CudaDevice(new EmulatedDevice(memoryBytes), 0); }

    private CudaDevice(CudaDriver driver, int ordinal) {
        this.driver = driver;
        this.dry = driver instanceof DryRun ? (DryRun) driver : null;
        this.ordinal = ordinal;
        name = driver.name();
        computeMajor = driver.computeMajor();
        computeMinor = driver.computeMinor();
    }

    boolean usesCublas() { return driver.usesCublas(); }

    String describe() { return "cuda:" + ordinal + " " + name + " (sm_" + computeMajor + computeMinor + ", " + (usesCublas() ? "cuBLAS" : "fallback GEMM") + ")"; }

    void makeCurrent() { driver.makeCurrent(); }

    /** {free, total} device memory in bytes. */
    long[] memInfo() { return driver.memInfo(); }

    // ---- memory ---------------------------------------------------------------------------------

    private static long round(long bytes) {
        long g = bytes <= (1 << 20) ? 512 : (1 << 20);
        return Math.max(g, (bytes + g - 1) / g * g);
    }

    /**
     * A device block of at least {@code bytes}; {@code what} names it in an out-of-memory message.
     *
     * @throws CudaOutOfMemoryException when it does not fit even after the pool is emptied
     */
    CUdeviceptr alloc(long bytes, String what) {
        long size = round(bytes);
        ArrayDeque<CUdeviceptr> q = pool.get(size);
        if (q != null && !q.isEmpty()) {
            CUdeviceptr p = q.pop();
            driver.reused(p);
            return p;
        }
        CUdeviceptr p = driver.alloc(size, what);
        if (p == null) {
            trim();
            p = driver.alloc(size, what);
        }
        if (p == null) {
            long[] info = memInfo();
            throw new CudaOutOfMemoryException("cuda:" + ordinal + " " + name, what, size, info[0], info[1]);
        }
        sizes.put(p, size);
        return p;
    }

    /** Returns a block to the pool (kept for reuse, freed by {@link #trim} or close). */
    void free(CUdeviceptr p) {
        if (p == null) return;
        Long size = sizes.get(p);
        if (size == null) throw new IllegalStateException("free of a pointer this device did not allocate");
        driver.pooled(p);
        pool.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
    }

    /** Frees every pooled block back to the driver. */
    void trim() {
        for (ArrayDeque<CUdeviceptr> q : pool.values())
            for (CUdeviceptr p : q) {
                sizes.remove(p);
                driver.release(p);
            }
        pool.clear();
    }

    /** Releases a block to the driver at once (weights). */
    void release(CUdeviceptr p) {
        if (p == null || sizes.remove(p) == null) return;
        driver.release(p);
    }

    void upload(CUdeviceptr dst, Pointer src, long bytes) { driver.copyToDevice(dst, src, bytes); }

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

    void download(Pointer dst, CUdeviceptr src, long bytes) { driver.copyToHost(dst, src, bytes); }

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
    void fill32(CUdeviceptr p, int bits, long count) { driver.fill32(p, bits, count); }

    /** Device-to-device copy, ordered after the work before it. */
    void copy(CUdeviceptr dst, CUdeviceptr src, long bytes) { driver.copyOnDevice(dst, src, bytes); }

    // ---- kernels --------------------------------------------------------------------------------

    /** Lets {@code fn} use up to {@code bytes} of dynamic shared memory (needed above 48 KiB). */
    void allowSharedMemory(String fn, int bytes) {
        if (bytes <= 48 * 1024 || smemOptIn.getOrDefault(fn, 0) >= bytes) return;
        driver.allowSharedMemory(fn, bytes);
        smemOptIn.put(fn, bytes);
    }

    /**
     * Launches a kernel; args are CUdeviceptr/Pointer, Integer, Long, Float or Double, in the kernel's order.
     * Callers use the typed launchers of {@link CudaOps}.
     *
     * @throws IllegalArgumentException args that do not match the kernel's PTX parameter list
     */
    void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, Object... args) {
        signatures.check(fn, args);
        driver.launch(fn, gx, gy, gz, bx, by, smem, smemOptIn.getOrDefault(fn, 0), args);
    }

    /**
     * C[m][n] = sum_k A[m][k] * W[n][k] + beta * C[m][n]: activations A [M][K] and weights W [N][K]
     * (Hugging Face [out][in]) in dtype t, C fp32 [M][N]; fp32 accumulation, no TF32. cuBLAS where the
     * driver has it, else our kernels ({@link CudaOps#gemmKernel}).
     */
    void gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (m == 0) return;
        if (!driver.gemm(t, a, w, c, m, n, k, beta)) CudaOps.gemmKernel(this, t, a, w, c, m, n, k, beta);
    }

    void synchronize() { driver.synchronize(); }

    /** A device address of 0, for the kernels' optional pointer arguments. */
    static final CUdeviceptr NULL = new CUdeviceptr();

    /**
     * Records the launches {@code work} makes on this device's stream into an executable graph instead
     * of running them. Nothing may allocate or copy meanwhile.
     */
    CudaDriver.Graph capture(Runnable work) { return driver.capture(work); }

    void replay(CudaDriver.Graph g) { driver.replay(g); }

    void destroy(CudaDriver.Graph g) { if (g != null) driver.destroy(g); }

    @Override
    public void close() {
        makeCurrent();
        trim();
        for (CUdeviceptr p : new ArrayList<>(sizes.keySet())) driver.release(p);
        sizes.clear();
        driver.close();
    }
}
