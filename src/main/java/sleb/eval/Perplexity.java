package sleb.eval;

import sleb.backend.LoadedModel;
import sleb.util.Progress;

/**
 * The SLEB protocol: non-overlapping windows of seqlen tokens, PPL = exp(mean NLL over positions
 * 1..seqlen-1 of every window), run with only the given blocks.
 */
public final class Perplexity {
    public static final class Result {
        public String dataset;
        public long tokens;
        public int windows;
        public int seqlen;
        public double nll;        // summed over all predicted positions
        public long predicted;    // windows * (seqlen - 1)
        public double ppl;
        public double seconds;
        public double tokensPerSecond;

        /** The fields every results file records, in a stable order. */
        public java.util.Map<String, Object> toJson() {
            java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("tokens", tokens);
            row.put("windows", windows);
            row.put("seqlen", seqlen);
            row.put("nll", nll);
            row.put("ppl", ppl);
            row.put("seconds", seconds);
            row.put("tokens_per_second", tokensPerSecond);
            return row;
        }
    }

    private Perplexity() {}

    /** Windows per forward call: enough rows to keep every core busy on small models. */
    public static int autoBatch(int seqlen) { return Math.max(1, 2048 / seqlen); }

    public static Result run(LoadedModel model, String dataset, int[][] windows, int[] blocks, int batch, boolean progress) {
        if (windows.length == 0) throw new sleb.util.UsageException(dataset + ": too little text for one window; lower --seqlen or give more text");
        int seqlen = windows[0].length;
        long t0 = System.nanoTime();
        double nll = 0;
        try (Progress bar = progress ? Progress.start(dataset, windows.length, "win") : Progress.none()) {
            for (int i = 0; i < windows.length; i += batch) {
                int n = Math.min(batch, windows.length - i);
                int[][] b = java.util.Arrays.copyOfRange(windows, i, i + n);
                for (double v : model.nll(b, blocks)) nll += v;
                bar.step(n);
            }
        }
        Result r = new Result();
        r.dataset = dataset;
        r.windows = windows.length;
        r.seqlen = seqlen;
        r.tokens = (long) windows.length * seqlen;
        r.predicted = (long) windows.length * (seqlen - 1);
        r.nll = nll;
        r.ppl = Math.exp(nll / r.predicted);
        r.seconds = (System.nanoTime() - t0) / 1e9;
        r.tokensPerSecond = r.tokens / r.seconds;
        return r;
    }
}
