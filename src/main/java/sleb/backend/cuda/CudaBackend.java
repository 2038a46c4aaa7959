package sleb.backend.cuda;

import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.model.Model;

/**
 * The CUDA backend: JCuda driver API for our kernels (PTX resources, JIT-compiled by the driver on
 * load), cuBLAS through JCublas for the projections. One device per backend; {@link CudaSplitBackend}
 * spreads one model's blocks over several.
 */
public final class CudaBackend implements Backend {
    private final CudaDevice device;

    public CudaBackend(int ordinal) { this(new CudaDevice(ordinal)); }

    CudaBackend(CudaDevice device) { this.device = device; }

    /** null when a usable CUDA GPU is present, otherwise the reason there is none. */
    public static String probe() { return GpuDriver.probe(); }

    /** One device, or a split of the blocks over several in layer order ("cuda:0,1"). */
    public static sleb.backend.Backend open(int[] ordinals) {
        if (ordinals.length == 0) throw new sleb.util.UsageException("no CUDA device given");
        if (ordinals.length == 1) return new CudaBackend(ordinals[0]);
        return new CudaSplitBackend(ordinals);
    }

    /** Loads only the blocks marked resident (one part of a model split across GPUs; null: all). */
    LoadedModel loadPart(Model model, boolean[] resident) {
        device.makeCurrent();
        return new CudaLoadedModel(this, device, model, resident);
    }

    CudaDevice device() { return device; }

    @Override
    public String kind() { return "cuda"; }

    @Override
    public String describe() { return device.describe(); }

    @Override
    public LoadedModel load(Model model) { return loadPart(model, null); }

    @Override
    public void close() { device.close(); }
}
