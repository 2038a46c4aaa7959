package sleb.backend.cpu;

import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import sleb.util.Parallel;

/**
 * Quick probes of the machine's ceilings: fp32 fused multiply-add throughput on every thread (twelve
 * independent vector accumulators per thread, enough to hide the FMA latency), and the bandwidth of a
 * streaming read of an array much larger than the caches. Each is the best of a few runs.
 */
final class PeakProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static volatile double sink;

    private PeakProbe() {}

    /** GFLOP/s of fp32 FMAs over all threads of par. */
    static double gflops(Parallel par) {
        long iters = 4_000_000;
        fmaLoop(200_000); // let the JIT compile the kernel
        double best = 0;
        for (int rep = 0; rep < 5; rep++) {
            int t = par.threads();
            long t0 = System.nanoTime();
            DoubleAdder acc = new DoubleAdder();
            par.forEach(t, i -> acc.add(fmaLoop(iters)));
            double s = (System.nanoTime() - t0) / 1e9;
            sink = acc.sum();
            best = Math.max(best, t * (double) iters * 12 * S.length() * 2 / s / 1e9);
        }
        return best;
    }

    private static double fmaLoop(long iters) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-6f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        return s.reduceLanes(VectorOperators.ADD);
    }

    /** GB/s of a streaming read of a 512 MiB array, split over all threads of par. */
    static double gbs(Parallel par) {
        float[] a = new float[128 << 20];
        java.util.Arrays.fill(a, 1f);
        int parts = par.threads() * 8;
        int per = a.length / parts;
        double best = 0;
        for (int rep = 0; rep < 6; rep++) {
            DoubleAdder acc = new DoubleAdder();
            long t0 = System.nanoTime();
            par.forEach(parts, p -> acc.add(sum(a, p * per, per)));
            double s = (System.nanoTime() - t0) / 1e9;
            sink = acc.sum();
            if (rep > 0) best = Math.max(best, (double) parts * per * 4 / s / 1e9);
        }
        return best;
    }

    private static double sum(float[] a, int off, int len) {
        int l = S.length();
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = off, end = off + len - len % (4 * l);
        for (; i < end; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(S, a, i));
            s1 = s1.add(FloatVector.fromArray(S, a, i + l));
            s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * l));
        }
        double r = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
        for (; i < off + len; i++) r += a[i];
        return r;
    }
}
