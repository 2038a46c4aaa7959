package sleb.eval;

import sleb.backend.LoadedModel;
import sleb.util.Progress;

/**
 * The SLEB protocol: non-overlapping windows of seqlen tokens, PPL = exp(mean NLL over positions
 * 1..seqlen-1 of every window), run with only the given blocks. A window with a non-finite loss stops the
 * run with a line naming it and the removed blocks ({@link FiniteLoss}).
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

    /** Receives the running total so a long evaluation can be saved and resumed. */
    public interface Checkpoint {
        void save(int windowsDone, double nll) throws java.io.IOException;
    }

    public static Result run(LoadedModel model, String dataset, int[][] windows, int[] blocks, int batch, boolean progress) {
        try {
            return run(model, dataset, windows, blocks, batch, progress, 0, 0, null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // no checkpoint, no I/O
        }
    }

    /**
     * Continues from {@code start} windows already summed to {@code startNll}; the sum runs in window order
     * either way, so a resumed total equals an uninterrupted one. The checkpoint is offered the total after a
     * batch at most every 5 seconds and after the last batch.
     */
    public static Result run(LoadedModel model, String dataset, int[][] windows, int[] blocks, int batch, boolean progress,
                             int start, double startNll, Checkpoint checkpoint) throws java.io.IOException {
        if (windows.length == 0) throw new sleb.util.UsageException(dataset + ": too little text for one window; lower --seqlen or give more text");
        int seqlen = windows[0].length;
        long t0 = System.nanoTime(), lastSave = t0;
        double nll = startNll;
        try (Progress bar = progress ? Progress.start(dataset, windows.length, "win") : Progress.none()) {
            bar.stepTo(start);
            for (int i = start; i < windows.length; i += batch) {
                int n = Math.min(batch, windows.length - i);
                int[][] b = java.util.Arrays.copyOfRange(windows, i, i + n);
                double[] per = model.nll(b, blocks);
                for (int j = 0; j < per.length; j++) {
                    if (!Double.isFinite(per[j]))
                        FiniteLoss.check(per[j], String.format("%s: window %d of %d (tokens %d..%d of the stream), removed blocks %s",
                                dataset, i + j, windows.length, (long) (i + j) * seqlen, (long) (i + j + 1) * seqlen - 1,
                                FiniteLoss.removed(model.config().nLayers, blocks)));
                    nll += per[j];
                }
                bar.step(n);
                long now = System.nanoTime();
                if (checkpoint != null && (now - lastSave > 5_000_000_000L || i + n == windows.length)) {
                    checkpoint.save(i + n, nll);
                    lastSave = now;
                }
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
        r.tokensPerSecond = (double) (windows.length - start) * seqlen / r.seconds;
        return r;
    }
}
