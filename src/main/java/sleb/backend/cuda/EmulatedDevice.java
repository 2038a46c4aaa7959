package sleb.backend.cuda;

import java.lang.reflect.Field;
import java.nio.Buffer;
import jcuda.Pointer;

/**
 * A dry run whose work really happens, on the CPU: memory is the emulator's (each block between guard
 * pages), copies move bytes, every kernel runs on the emulator with CUDA's thread, barrier and warp
 * semantics, and GEMMs run a plain reference (the cuBLAS contract, fp32 out). With it the CUDA backend's
 * host code and kernels run together without a GPU, so the GPU tests' comparisons with the CPU backend
 * can run on any machine (the CudaEmulated*Test classes), slowly.
 */
final class EmulatedDevice extends DryRun {
    private static final Field BUFFER;
    static {
        try {
            BUFFER = Pointer.class.getDeclaredField("buffer");
            BUFFER.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final boolean gemmKernels = CudaDriver.fallbackGemmRequested();

    EmulatedDevice(long memory) {
        super(memory, "CPU emulator (no GPU)");
        String why = EmuNative.load();
        if (why != null) throw new IllegalStateException("CPU kernel emulator unavailable: " + why);
    }

    @Override
    protected long newAddress(long size, String what) {
        long a = EmuNative.alloc(size, what);
        if (a == 0) throw new IllegalStateException("emulator could not map " + size + " bytes for " + what);
        return a;
    }

    /** -Dsleb.cuda.gemm=fallback: GEMMs run our gemm_fallback kernels on the emulator instead of the reference. */
    @Override
    protected boolean runsGemmKernels() { return gemmKernels; }

    @Override
    protected void freed(long base) { EmuNative.free(base); }

    /** The Java array behind Pointer.to(array), and the byte offset into it. */
    private static Object array(Pointer host, long[] offset) {
        try {
            Buffer b = (Buffer) BUFFER.get(host);
            if (b == null || !b.hasArray()) throw new IllegalArgumentException("host pointer is not backed by a Java array");
            int elem = b instanceof java.nio.FloatBuffer || b instanceof java.nio.IntBuffer ? 4
                    : b instanceof java.nio.DoubleBuffer || b instanceof java.nio.LongBuffer ? 8 : b instanceof java.nio.ShortBuffer ? 2 : 1;
            offset[0] = (long) (b.arrayOffset() + b.position()) * elem;
            return b.array();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void toDevice(Pointer dst, Pointer host, long bytes) {
        long[] off = new long[1];
        Object a = array(host, off);
        EmuNative.copyIn(address(dst), a, off[0], bytes);
    }

    @Override
    protected void toHost(Pointer host, Pointer src, long bytes) {
        long[] off = new long[1];
        Object a = array(host, off);
        EmuNative.copyOut(a, off[0], address(src), bytes);
    }

    @Override
    protected void fill(Pointer dst, int bits, long count) {
        int[] words = new int[(int) count];
        java.util.Arrays.fill(words, bits);
        EmuNative.copyIn(address(dst), words, 0, 4L * count);
    }

    @Override
    protected Runnable copyWork(Pointer dst, Pointer src, long bytes) {
        long d = address(dst), s = address(src);
        return () -> EmuNative.copy(d, s, bytes);
    }

    @Override
    protected Runnable gemmWork(Pointer a, Pointer w, Pointer c, int m, int n, int k, int dtype, float beta) {
        long pa = address(a), pw = address(w), pc = address(c);
        return () -> EmuNative.gemm(dtype, pa, pw, pc, m, n, k, beta);
    }

    @Override
    protected Runnable kernel(String fn, int gx, int gy, int gz, int bx, int by, int smem, Object[] args) {
        long[] bits = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            Object o = args[i];
            if (o instanceof Pointer) bits[i] = address((Pointer) o);
            else if (o instanceof Integer) bits[i] = (Integer) o;
            else if (o instanceof Long) bits[i] = (Long) o;
            else if (o instanceof Float) bits[i] = Float.floatToRawIntBits((Float) o) & 0xffffffffL;
            else if (o instanceof Double) bits[i] = Double.doubleToRawLongBits((Double) o);
            else throw new IllegalArgumentException("kernel argument " + i + " of " + fn + ": " + o);
        }
        return () -> {
            String err = EmuNative.launch(fn, gx, gy, gz, bx, by, smem, bits);
            if (err != null) throw new IllegalStateException("emulated kernel failed: " + err);
        };
    }
}
