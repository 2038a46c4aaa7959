package sleb.backend.cuda;

import static org.testng.Assert.fail;

import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.testng.SkipException;
import sleb.model.DType;

/** Shared pieces of the GPU tests: skipping without a GPU, random data, NaN poisoning, comparisons. */
final class CudaTestSupport {
    private CudaTestSupport() {}

    static void requireGpu() {
        String why;
        try {
            why = CudaBackend.probe();
        } catch (Throwable t) {
            why = t.toString();
        }
        if (why != null) throw new SkipException("no CUDA GPU: " + why);
    }

    /** Skips unless the CPU kernel emulator library is built (make kernels-emu-lib; make test builds it). */
    static void requireEmulator() {
        String why = EmuNative.load();
        if (why != null) throw new SkipException("CPU kernel emulator: " + why);
    }

    /** A CUDA backend on the emulated device: 2 GiB of (virtual) device memory. */
    static CudaBackend emulatedBackend() { return new CudaBackend(CudaDevice.emulated(2L << 30)); }

    static float[] randn(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    /** Rounds each value through a 16-bit dtype (what the device stores). */
    static float[] round(float[] a, DType t) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++)
            o[i] = t == DType.BF16 ? DType.bf16ToFloat(DType.floatToBf16(a[i])) : t == DType.F16 ? DType.f16ToFloat(DType.floatToF16(a[i])) : a[i];
        return o;
    }

    static short[] bits(float[] a, DType t) {
        short[] s = new short[a.length];
        for (int i = 0; i < a.length; i++) s[i] = t == DType.BF16 ? DType.floatToBf16(a[i]) : DType.floatToF16(a[i]);
        return s;
    }

    static CUdeviceptr upload(CudaDevice dev, float[] a, DType t) {
        if (t == DType.F32) return dev.uploadFloats(a, "test input");
        CUdeviceptr p = dev.alloc(2L * a.length, "test input");
        dev.upload(p, Pointer.to(bits(a, t)), 2L * a.length);
        return p;
    }

    /** A buffer of n elements of dtype t filled with NaN, so that elements a kernel fails to write show up. */
    static CUdeviceptr poisoned(CudaDevice dev, long n, DType t) {
        CUdeviceptr p = dev.alloc(n * t.bytes, "test output");
        if (t == DType.F32) {
            int[] nan = new int[(int) n];
            java.util.Arrays.fill(nan, 0x7fc00000);
            dev.upload(p, Pointer.to(nan), 4L * n);
        } else {
            short[] nan = new short[(int) n];
            java.util.Arrays.fill(nan, (short) (t == DType.BF16 ? 0x7fc0 : 0x7e00));
            dev.upload(p, Pointer.to(nan), 2L * n);
        }
        return p;
    }

    static CUdeviceptr poisonedDoubles(CudaDevice dev, int n) {
        CUdeviceptr p = dev.alloc(8L * n, "test output");
        double[] nan = new double[n];
        java.util.Arrays.fill(nan, Double.NaN);
        dev.upload(p, Pointer.to(nan), 8L * n);
        return p;
    }

    static float[] download(CudaDevice dev, CUdeviceptr p, int n, DType t) {
        if (t == DType.F32) return dev.downloadFloats(p, n);
        short[] s = new short[n];
        dev.download(Pointer.to(s), p, 2L * n);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = t == DType.BF16 ? DType.bf16ToFloat(s[i]) : DType.f16ToFloat(s[i]);
        return f;
    }

    /** |a - e| <= rel * max(|e|, floor) for every element; NaN fails. */
    static void assertClose(float[] actual, double[] expected, double rel, double floor, String what) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) a[i] = actual[i]; // exact widening
        assertClose(a, expected, rel, floor, what);
    }

    static void assertClose(double[] actual, double[] expected, double rel, double floor, String what) {
        if (actual.length != expected.length) fail(what + ": length " + actual.length + " != " + expected.length);
        for (int i = 0; i < actual.length; i++) {
            double tol = rel * Math.max(Math.abs(expected[i]), floor);
            if (!(Math.abs(actual[i] - expected[i]) <= tol))
                fail(String.format("%s[%d]: got %s, expected %s (tolerance %.3g)", what, i, actual[i], expected[i], tol));
        }
    }

    /** Tolerance by dtype: fp32 1e-5 relative, 16-bit 1e-2. */
    static double tol(DType t) { return t == DType.F32 ? 1e-5 : 1e-2; }
}
