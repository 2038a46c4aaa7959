package sleb.backend;

import java.util.Arrays;
import sleb.backend.cpu.CpuBackend;
import sleb.backend.cuda.CudaBackend;
import sleb.util.UsageException;

/** Opens a backend from a --device spec: cpu | cuda | cuda:N | cuda:0,1 | auto. */
public final class Backends {
    private Backends() {}

    public static Backend open(String spec) { return open(spec, null); }

    /**
     * As {@link #open(String)}, with the CPU backend's thread count ({@code --threads}; null: all cores, or the
     * sleb.threads property). Threads for a CUDA device are refused.
     */
    public static Backend open(String spec, Integer cpuThreads) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("cpu")) return cpu(cpuThreads);
        if (s.equals("auto")) {
            String why = cudaProblem();
            if (why == null) {
                refuseThreads(cpuThreads);
                return new CudaBackend(0);
            }
            System.err.println("sleb: no usable CUDA GPU (" + why + "); running on the CPU");
            return cpu(cpuThreads);
        }
        if (s.equals("cuda") || s.startsWith("cuda:")) {
            int[] ordinals = {0};
            if (s.startsWith("cuda:")) {
                try {
                    ordinals = Arrays.stream(s.substring(5).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
                } catch (NumberFormatException e) {
                    throw new UsageException("bad device '" + spec + "': expected cuda:N or cuda:N,M,...");
                }
            }
            refuseThreads(cpuThreads);
            String why = cudaProblem();
            if (why != null) throw new UsageException("no CUDA GPU found: " + why + "; use --device cpu");
            return CudaBackend.open(ordinals);
        }
        throw new UsageException("unknown device '" + spec + "': use cpu, cuda, cuda:N, cuda:N,M or auto");
    }

    /** null when CUDA is usable; otherwise why not (also when the JCuda classes are absent). */
    public static String cudaProblem() {
        try {
            return CudaBackend.probe();
        } catch (Throwable t) {
            return t.getClass().getSimpleName() + ": " + t.getMessage();
        }
    }

    private static Backend cpu(Integer threads) { return threads == null ? new CpuBackend() : new CpuBackend(threads); }

    private static void refuseThreads(Integer cpuThreads) {
        if (cpuThreads != null) throw new UsageException("--threads applies to --device cpu only");
    }
}
