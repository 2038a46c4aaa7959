package sleb.backend.cuda;

import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.model.Model;

/**
 * The CUDA backend: JCuda driver API for our kernels (PTX resources, JIT-compiled by the driver on
 * load), cuBLAS through JCublas for the projections. One device per backend; splitting the blocks of
 * one model over several GPUs is not implemented yet.
 */
public final class CudaBackend implements Backend {
    private final CudaDevice device;

    public CudaBackend(int ordinal) { this.device = new CudaDevice(ordinal); }

    /** null when a usable CUDA GPU is present, otherwise the reason there is none. */
    public static String probe() { return CudaDevice.probe(); }

    /** Backends for "cuda:0,1": not implemented yet, so more than one device is an error. */
    public static CudaBackend open(int[] ordinals) {
        if (ordinals.length == 0) throw new sleb.util.UsageException("no CUDA device given");
        if (ordinals.length > 1)
            throw new sleb.util.UsageException("splitting a model over several GPUs (cuda:"
                    + java.util.Arrays.toString(ordinals).replaceAll("[\\[\\] ]", "")
                    + ") is not implemented yet; use a single device, e.g. cuda:" + ordinals[0]);
        return new CudaBackend(ordinals[0]);
    }

    CudaDevice device() { return device; }

    @Override
    public String describe() { return device.describe(); }

    @Override
    public LoadedModel load(Model model) {
        device.makeCurrent();
        return new CudaLoadedModel(this, device, model);
    }

    @Override
    public void close() { device.close(); }
}
