package sleb.backend.cpu;

import sleb.backend.Activations;

/** Hidden states on the heap: [batch][seqLen][dim] flattened. */
public final class CpuActivations implements Activations {
    final float[] data;
    private final int batch, seqLen, dim;

    CpuActivations(float[] data, int batch, int seqLen, int dim) {
        this.data = data;
        this.batch = batch;
        this.seqLen = seqLen;
        this.dim = dim;
    }

    @Override public int batch() { return batch; }
    @Override public int seqLen() { return seqLen; }
    @Override public int dim() { return dim; }
    @Override public float[] toHost() { return data.clone(); }
    @Override public void close() {}
}
