package sleb.backend.cpu;

import jdk.incubator.vector.FloatVector;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.model.Model;

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
    public void close() { par.close(); }
}
