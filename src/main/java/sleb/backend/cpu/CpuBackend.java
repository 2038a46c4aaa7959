package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.model.Model;
import sleb.util.Parallel;

/** The pure-Java backend: all cores, Vector API inner loops, fp32 arithmetic. */
public final class CpuBackend implements Backend {
    private final Parallel par;

    public CpuBackend() { this(Integer.getInteger("sleb.threads", Runtime.getRuntime().availableProcessors())); }

    public CpuBackend(int threads) { this.par = new Parallel(threads); }

    @Override
    public String describe() {
        return "cpu (" + par.threads() + " threads, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors)";
    }

    @Override
    public LoadedModel load(Model model) { return new CpuLoadedModel(this, model, par); }

    @Override
    public String kind() { return "cpu"; }

    /** fp32 FMA throughput over this backend's threads ({@link PeakProbe}). */
    @Override
    public double peakGflops() { return PeakProbe.gflops(par); }

    /** A streaming read of 512 MiB over this backend's threads ({@link PeakProbe}). */
    @Override
    public double peakGbs() { return PeakProbe.gbs(par); }

    @Override
    public void close() { par.close(); }
}
