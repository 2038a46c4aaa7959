package sleb.backend.cuda;

/**
 * CudaKernelsTest on the CPU kernel emulator: each kernel, launched through the Java host path, against
 * the Java double references written there (independent of the emulator's own C++ references).
 */
public class CudaEmulatedKernelsTest extends CudaKernelsTest {
    @Override protected void requireDevice() { CudaTestSupport.requireEmulator(); }

    @Override protected CudaDevice device() { return CudaDevice.emulated(2L << 30); }
}
