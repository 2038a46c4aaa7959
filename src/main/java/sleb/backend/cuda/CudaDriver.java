package sleb.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.model.DType;

/**
 * What stands under a {@link CudaDevice}: the CUDA driver and cuBLAS on a GPU ({@link GpuDriver}), a dry run
 * that checks and records (see {@link DryRun}) or the CPU kernel emulator ({@link EmulatedDevice}). It does
 * one call each; the caching pool, the PTX signature check, the shared-memory opt-in bookkeeping and the
 * out-of-memory message are {@link CudaDevice}'s, so they are the same on all three.
 */
interface CudaDriver {
    /** The device's name, as the driver reports it. */
    String name();

    /** Compute capability, major and minor. */
    int computeMajor();

    int computeMinor();

    /** Whether {@link #gemm} is cuBLAS (false for a dry run and when libcublas did not load). */
    boolean usesCublas();

    /** Makes this device's context current on the calling thread. */
    void makeCurrent();

    /** {free, total} device memory in bytes. */
    long[] memInfo();

    /** A new block of exactly {@code size} bytes, or null when the device has not that much free. */
    CUdeviceptr alloc(long size, String what);

    /** Gives a block back to the device (it must not be pooled). */
    void release(CUdeviceptr p);

    /** The pool kept p for reuse (a dry run then refuses its use). */
    default void pooled(CUdeviceptr p) {}

    /** The pool handed p out again. */
    default void reused(CUdeviceptr p) {}

    void copyToDevice(CUdeviceptr dst, Pointer host, long bytes);

    void copyToHost(Pointer host, CUdeviceptr src, long bytes);

    /** Device-to-device copy, ordered after the work before it. */
    void copyOnDevice(CUdeviceptr dst, CUdeviceptr src, long bytes);

    /** Sets count 32-bit words at dst to bits. */
    void fill32(CUdeviceptr dst, int bits, long count);

    /** Lets fn use {@code bytes} (above 48 KiB) of dynamic shared memory. */
    void allowSharedMemory(String fn, int bytes);

    /** Launches fn on the device's stream; args already checked against its PTX parameters; smemAllowed: the opt-in so far. */
    void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, int smemAllowed, Object[] args);

    /**
     * C = A·Wᵀ + beta·C as {@link CudaDevice#gemm} defines it, by a library (cuBLAS, or a dry run's
     * reference); false when there is none and the caller should launch our GEMM kernels.
     */
    boolean gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta);

    /** Waits for all work on the device. */
    void synchronize();

    /** An executable graph: what {@link #capture} recorded. */
    interface Graph {}

    /** Records the launches {@code work} makes instead of running them. */
    Graph capture(Runnable work);

    void replay(Graph g);

    void destroy(Graph g);

    /** Releases the driver's own resources; every block has been released before. */
    void close();

    /** -Dsleb.cuda.gemm=fallback: our GEMM kernels instead of cuBLAS (or the emulator's reference GEMM). */
    static boolean fallbackGemmRequested() { return "fallback".equals(System.getProperty("sleb.cuda.gemm")); }
}
