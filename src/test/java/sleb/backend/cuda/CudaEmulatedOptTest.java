package sleb.backend.cuda;

/** CudaOptTest with the CUDA backend on the CPU kernel emulator: the same fixtures, reference and bounds. */
public class CudaEmulatedOptTest extends CudaOptTest {
    @Override protected void requireDevice() { CudaTestSupport.requireEmulator(); }

    @Override protected CudaBackend backend() { return CudaTestSupport.emulatedBackend(); }
}
