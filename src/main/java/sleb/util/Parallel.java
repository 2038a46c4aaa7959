package sleb.util;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that split an index range dynamically (an atomic counter hands out
 * indices), so uneven tasks such as causal attention rows balance without a scheduler per call. A call
 * hands its job to the workers through a field and unparks them; workers spin briefly before parking,
 * so the hundred-odd calls of one decoded token cost microseconds each, not an executor round trip.
 */
public final class Parallel implements AutoCloseable {
    private static final int SPIN = 1 << 8;

    private final int threads;
    private final Worker[] workers;
    private volatile boolean closed;

    private static final class Job {
        final int n;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger left;
        final Thread caller;
        volatile Throwable error;

        Job(int n, IntConsumer body, int helpers, Thread caller) {
            this.n = n;
            this.body = body;
            this.left = new AtomicInteger(helpers);
            this.caller = caller;
        }

        void work() {
            try {
                for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) body.accept(i);
            } catch (Throwable t) {
                error = t;
                next.set(n); // the others stop taking indices
            }
        }
    }

    private final class Worker extends Thread {
        volatile Job job;

        Worker(int i) {
            super("sleb-cpu-" + i);
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!closed) {
                Job j = job;
                for (int s = 0; j == null && s < SPIN; s++) {
                    Thread.onSpinWait();
                    j = job;
                }
                if (j == null) {
                    LockSupport.park(this);
                    continue;
                }
                job = null;
                j.work();
                if (j.left.decrementAndGet() == 0) LockSupport.unpark(j.caller);
            }
        }
    }

    public Parallel(int threads) {
        this.threads = Math.max(1, threads);
        workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    public int threads() { return threads; }

    /** Runs body(i) for every i in [0, n), on all threads; returns when all are done. */
    public void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        if (workers.length == 0 || n == 1 || Thread.currentThread() instanceof Worker) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        int helpers = Math.min(workers.length, n - 1);
        Job j = new Job(n, body, helpers, Thread.currentThread());
        for (int h = 0; h < helpers; h++) {
            workers[h].job = j;
            LockSupport.unpark(workers[h]);
        }
        j.work();
        for (int s = 0; j.left.get() > 0; s++) {
            if (s < SPIN) Thread.onSpinWait();
            else LockSupport.parkNanos(this, 100_000);
        }
        Throwable t = j.error;
        if (t instanceof RuntimeException) throw (RuntimeException) t;
        if (t instanceof Error) throw (Error) t;
        if (t != null) throw new RuntimeException(t);
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }
}
