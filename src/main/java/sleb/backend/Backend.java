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

    /** The kind of processor, "cpu" or "cuda": the heading of docs/benchmarks.md that this backend's rows go under. */
    String kind();

    /** Peak fp32 GFLOP/s of this backend for the roofline, measured by a short probe; NaN when it has no probe (then the user gives it). */
    default double peakGflops() { return Double.NaN; }

    /** Peak memory bandwidth in GB/s (10^9 bytes/s) for the roofline, measured by a short probe; NaN when it has no probe. */
    default double peakGbs() { return Double.NaN; }

    @Override
    void close();
}
