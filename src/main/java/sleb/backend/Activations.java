package sleb.backend;

/**
 * Hidden states of a batch of equally long sequences, [batch x seqLen x dim], owned by a backend
 * (host memory for the CPU, device memory for CUDA). Positions are 0..seqLen-1 in every sequence.
 */
public interface Activations extends AutoCloseable {
    int batch();
    int seqLen();
    int dim();

    /** A host copy, row-major [batch][seqLen][dim] flattened. */
    float[] toHost();

    /** Bytes this object holds on its backend. */
    default long bytes() { return 4L * batch() * seqLen() * dim(); }

    @Override
    void close();
}
