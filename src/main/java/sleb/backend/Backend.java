package sleb.backend;

import sleb.model.Model;

/**
 * A place where a model's arithmetic runs: the CPU or a CUDA device. A backend uploads a model once
 * ({@link #load}) and then runs it block by block on {@link Activations} that stay on the backend.
 */
public interface Backend extends AutoCloseable {
    /** e.g. "cpu (2 threads, 512-bit vectors)" or "cuda:0 NVIDIA H100". */
    String describe();

    LoadedModel load(Model model);

    @Override
    void close();
}
