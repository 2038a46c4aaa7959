package sleb.backend.cuda;

/**
 * CudaModelTest with the CUDA backend on the CPU kernel emulator instead of a GPU: the host code and our
 * kernels together, against the same double reference and bounds. Runs wherever libsleb-emu.so is built.
 */
public class CudaEmulatedModelTest extends CudaModelTest {
    @Override protected void requireDevice() { CudaTestSupport.requireEmulator(); }

    @Override protected CudaBackend backend() { return CudaTestSupport.emulatedBackend(); }

    @Override
    protected CudaSplitBackend splitBackend() {
        return new CudaSplitBackend(new CudaBackend[] {CudaTestSupport.emulatedBackend(), CudaTestSupport.emulatedBackend()});
    }
}
