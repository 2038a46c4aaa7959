package sleb.backend;

import sleb.backend.cpu.CpuBackend;
import sleb.util.UsageException;

/** Chooses a backend from a --device spec. */
public final class Backends {
    private Backends() {}

    public static Backend open(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("cpu")) return new CpuBackend();
        if (s.equals("auto")) return new CpuBackend();
        if (s.startsWith("cuda")) throw new UsageException("no CUDA backend in this build; use --device cpu");
        throw new UsageException("--device " + spec + " is not one of cpu, cuda, cuda:N, cuda:0,1, auto");
    }
}
