package sleb.backend.cpu;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads that split an index range dynamically (an atomic counter hands out
 * indices), so uneven tasks such as causal attention rows balance without a scheduler per call.
 */
public final class Parallel implements AutoCloseable {
    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : Executors.newFixedThreadPool(this.threads - 1, r -> {
            Thread t = new Thread(r, "sleb-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() { return threads; }

    /** Runs body(i) for every i in [0, n), on all threads; returns when all are done. */
    public void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        if (pool == null || n == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) body.accept(i);
        };
        int helpers = Math.min(threads - 1, n - 1);
        Future<?>[] fs = new Future<?>[helpers];
        for (int h = 0; h < helpers; h++) fs[h] = pool.submit(worker);
        worker.run();
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException) throw (RuntimeException) c;
                if (c instanceof Error) throw (Error) c;
                throw new RuntimeException(c);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
