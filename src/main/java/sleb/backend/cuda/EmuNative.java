package sleb.backend.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The JNI face of the CPU kernel emulator (native-kernels/emu/jni, built by `make kernels-emu` into
 * target/kernels-emu/libsleb-emu.so; -Dsleb.emu.lib names another path). Addresses are native pointers.
 */
final class EmuNative {
    private EmuNative() {}

    private static String failure;
    private static boolean loaded;

    /** null once the library is loaded, else why it cannot be. */
    static synchronized String load() {
        if (loaded) return null;
        if (failure != null) return failure;
        String prop = System.getProperty("sleb.emu.lib", "target/kernels-emu/libsleb-emu.so");
        Path lib = Paths.get(prop).toAbsolutePath();
        if (!Files.isRegularFile(lib)) return failure = lib + " not found (make kernels-emu-lib builds it; needs g++)";
        try {
            System.load(lib.toString());
            init();
            loaded = true;
            return null;
        } catch (UnsatisfiedLinkError e) {
            return failure = "cannot load " + lib + ": " + e.getMessage();
        }
    }

    static native void init();

    static native long alloc(long bytes, String what);

    static native void free(long address);

    /** Copies bytes from a primitive array (starting offset bytes in) to address. */
    static native void copyIn(long address, Object array, long offset, long bytes);

    static native void copyOut(Object array, long offset, long address, long bytes);

    static native void copy(long dst, long src, long bytes);

    /** Runs a kernel; args are raw bits (pointers and ints widened, floats as IEEE bits). null, or the emulator's error. */
    static native String launch(String kernel, int gx, int gy, int gz, int bx, int by, int smem, long[] args);

    /** C[m][n] = A[m][k] W[n][k]^T + beta C, dtype 0 fp32, 1 bf16, 2 fp16; products summed in double. */
    static native void gemm(int dtype, long a, long w, long c, int m, int n, int k, float beta);
}
