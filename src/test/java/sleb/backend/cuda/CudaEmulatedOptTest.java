package sleb.backend.cuda;

/** CudaOptTest with the CUDA backend on the CPU kernel emulator: the same fixtures, reference and bounds. */
public class CudaEmulatedOptTest extends CudaOptTest {
    @Override protected void requireDevice() { CudaTestSupport.requireEmulator(); }

    @Override protected CudaBackend backend() { return CudaTestSupport.emulatedBackend(); }

    @Override
    protected CudaSplitBackend splitBackend() {
        return new CudaSplitBackend(new CudaBackend[] {CudaTestSupport.emulatedBackend(), CudaTestSupport.emulatedBackend()});
    }

    @Override protected int[] sizes() { return new int[] {4, 128, 4, 64}; }
}
