package sleb.backend.cuda;

import sleb.util.UsageException;

/** Device memory ran out: says how much was asked for and how much the device had free (a user error: a smaller job fits). */
public final class CudaOutOfMemoryException extends UsageException {
    public final long requested, free, total;

    CudaOutOfMemoryException(String device, String what, long requested, long free, long total) {
        super(String.format("CUDA out of memory on %s: %s needs %s, but only %s of %s are free; "
                        + "use a smaller batch or sequence length, another GPU, or --device cpu",
                device, what, mib(requested), mib(free), mib(total)));
        this.requested = requested;
        this.free = free;
        this.total = total;
    }

    static String mib(long bytes) { return String.format("%.1f MiB", bytes / 1048576.0); }
}
