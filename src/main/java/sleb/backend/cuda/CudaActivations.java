package sleb.backend.cuda;

import jcuda.driver.CUdeviceptr;
import sleb.backend.Activations;

/** Hidden states [batch x seqLen x dim] fp32 in device memory, from the device's pool. */
public final class CudaActivations implements Activations {
    final CudaDevice device;
    final CUdeviceptr ptr;
    private final int batch, seqLen, dim;
    private boolean closed;

    CudaActivations(CudaDevice device, int batch, int seqLen, int dim) {
        this.device = device;
        this.batch = batch;
        this.seqLen = seqLen;
        this.dim = dim;
        this.ptr = device.alloc(4L * batch * seqLen * dim, "hidden states [" + batch + " x " + seqLen + " x " + dim + "]");
    }

    @Override public int batch() { return batch; }
    @Override public int seqLen() { return seqLen; }
    @Override public int dim() { return dim; }
    int rows() { return batch * seqLen; }

    CUdeviceptr ptr() {
        if (closed) throw new IllegalStateException("activations used after close()");
        return ptr;
    }

    @Override
    public float[] toHost() {
        long n = (long) batch * seqLen * dim;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("activations too large for one host array");
        device.makeCurrent();
        return device.downloadFloats(ptr(), (int) n);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        device.free(ptr);
    }
}
