package sleb.backend.cuda;

/**
 * CudaStories260KTest on the CPU kernel emulator: the real checkpoint's perplexity and SLEB's removal
 * order through our kernels, against the CPU backend, with the GPU test's bounds but fewer windows
 * (each emulated CUDA thread is a fiber).
 */
public class CudaEmulatedStories260KTest extends CudaStories260KTest {
    @Override protected void requireDevice() { CudaTestSupport.requireEmulator(); }

    @Override protected CudaBackend backend() { return CudaTestSupport.emulatedBackend(); }

    @Override protected int[] sizes() { return new int[] {8, 128, 8, 64}; }
}
