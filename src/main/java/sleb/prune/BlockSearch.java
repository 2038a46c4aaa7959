package sleb.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import sleb.backend.Activations;
import sleb.backend.LoadedModel;
import sleb.eval.FiniteLoss;
import sleb.model.BlockSelection;
import sleb.util.Progress;
import sleb.util.UsageException;

/**
 * Chooses blocks to remove. {@code sleb}: the official iterative search (each phase, every alive candidate
 * is skipped in turn on top of the blocks already removed, the calibration NLL summed, the lowest removed).
 * {@code oneshot}: one phase on the full model, the N lowest losses removed. {@code cosine}: one phase, the N
 * blocks whose output is most similar to their input removed.
 *
 * <p>Speed: the hidden states entering the alive blocks of the current model are cached per window batch
 * ({@link HiddenCache}), so candidate j starts from the cached input of j and runs only the alive blocks
 * after it. Results do not depend on the cache: every path runs the same block sequence on the same batches.
 */
public final class BlockSearch {
    public enum Metric {
        SLEB, COSINE, ONESHOT;

        public static Metric parse(String s) {
            for (Metric m : values()) if (m.name().equalsIgnoreCase(s)) return m;
            throw new UsageException("--metric " + s + " is not one of sleb, cosine, oneshot");
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Called after every candidate and every phase, with the state to persist. */
    public interface Listener {
        void saved(PruneState state) throws java.io.IOException;

        default void phaseLine(String line) { System.out.println(line); }
    }

    private final LoadedModel lm;
    private final int[][][] batches;
    private final int windows;
    private final Metric metric;
    private final int remove, early, latter;
    private final long cacheBytes;
    private final boolean noCache;
    private final PruneState state;
    private final Listener listener;
    private final boolean progress;
    private HiddenCache cache;
    /** Test hook (-Dsleb.prune.candidateDelayMs): pause after each saved candidate, so kill tests can land anywhere. */
    private static final long CANDIDATE_DELAY_MS = Long.getLong("sleb.prune.candidateDelayMs", 0);

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public BlockSearch(LoadedModel lm, int[][] calib, int batch, Metric metric, int remove, int early, int latter,
                       long cacheBytes, boolean noCache, PruneState state, Listener listener, boolean progress) {
        this.lm = lm;
        this.windows = calib.length;
        int nb = (calib.length + batch - 1) / batch;
        this.batches = new int[nb][][];
        for (int i = 0; i < nb; i++) batches[i] = Arrays.copyOfRange(calib, i * batch, Math.min(calib.length, (i + 1) * batch));
        this.metric = metric;
        this.remove = remove;
        this.early = early;
        this.latter = latter;
        this.cacheBytes = cacheBytes;
        this.noCache = noCache;
        this.state = state;
        this.listener = listener;
        this.progress = progress;
    }

    /** Throws a one-line UsageException when the request cannot be met. */
    public static void check(int nLayers, int remove, int early, int latter) {
        if (remove < 1) throw new UsageException("--num-remove-blocks must be at least 1 (or give --remove-ratio)");
        if (early < 0 || latter < 0) throw new UsageException("--early-barrier and --latter-barrier must be 0 or more");
        int firstPhase = nLayers - early - latter;
        int maxRemove = Math.min(nLayers - 1, Math.max(0, firstPhase));
        if (remove >= nLayers)
            throw new UsageException("--num-remove-blocks " + remove + " would leave no block of this model's " + nLayers + "; remove at most " + maxRemove
                    + (maxRemove < nLayers - 1 ? " (barriers: early " + early + ", latter " + latter + ")" : ""));
        if (remove > maxRemove)
            throw new UsageException("cannot remove " + remove + " blocks: the model has " + nLayers + " blocks and the barriers (early " + early + ", latter " + latter
                    + ") leave " + Math.max(0, firstPhase) + " candidates, so at most " + maxRemove + " can be removed; lower --num-remove-blocks or the barriers");
    }

    public void run() throws java.io.IOException {
        int n = lm.config().nLayers;
        check(n, remove, early, latter);
        if (metric == Metric.SLEB) {
            while (state.removal_order.size() < remove) runPhase(n);
        } else {
            if (state.phases.isEmpty() || !state.phases.get(0).complete) runPhase(n);
            PruneState.Phase p = state.phases.get(0);
            List<PruneState.Candidate> ranked = new ArrayList<>(p.candidates);
            ranked.sort(order());
            state.removal_order.clear();
            for (int i = 0; i < remove; i++) state.removal_order.add(ranked.get(i).block);
        }
        state.status = "selected";
        listener.saved(state);
        if (cache != null) cache.close();
    }

    /** Best first: lowest loss (sleb, oneshot) or highest cosine; ties to the lower block index. */
    private Comparator<PruneState.Candidate> order() {
        Comparator<PruneState.Candidate> byScore = metric == Metric.COSINE
                ? Comparator.comparingDouble((PruneState.Candidate c) -> -c.cosine)
                : Comparator.comparingDouble((PruneState.Candidate c) -> c.loss);
        return byScore.thenComparingInt(c -> c.block);
    }

    /**
     * The sum of one batch's per-window values; a non-finite one stops the search with a line naming the calibration
     * window, the phase, the candidate and the blocks removed before it, so that no block is ranked by NaN.
     */
    private double finite(double[] perWindow, String what, int batch, PruneState.Phase ph, int candidate) {
        double sum = 0;
        for (int j = 0; j < perWindow.length; j++) {
            if (!Double.isFinite(perWindow[j]))
                FiniteLoss.check(perWindow[j], String.format(Locale.ROOT, "%s phase %d, candidate block %d (removed before: %s), calibration window %d (%s)",
                        metric.label(), ph.phase, candidate, state.removal_order, batch * batches[0].length + j, what));
            sum += perWindow[j];
        }
        return sum;
    }

    private void runPhase(int n) throws java.io.IOException {
        int[] alive = BlockSelection.removing(n, state.removal_order).kept();
        List<Integer> aliveList = new ArrayList<>();
        for (int b : alive) aliveList.add(b);
        int m = alive.length;
        PruneState.Phase ph;
        if (!state.phases.isEmpty() && !state.phases.get(state.phases.size() - 1).complete) {
            ph = state.phases.get(state.phases.size() - 1);
            if (!ph.alive.equals(aliveList)) throw new IllegalStateException("run file is inconsistent: phase " + ph.phase + " alive list " + ph.alive + " vs " + aliveList);
        } else {
            ph = new PruneState.Phase();
            ph.phase = state.phases.size() + 1;
            ph.alive = aliveList;
            state.phases.add(ph);
        }
        int first = early, last = m - 1 - latter;
        int total = metric == Metric.SLEB ? remove : 1;
        int cands = last - first + 1;
        ph.official_block_evals = metric == Metric.COSINE ? (long) n * windows : (long) cands * (m - 1) * windows;
        if (cache == null) {
            cache = HiddenCache.create(lm, batches, last, cacheBytes, noCache, state.cache);
            System.err.println(cache.describe(state.cache));
        }
        cache.setAlive(alive, last);
        long t0 = System.nanoTime();
        double secondsBefore = ph.seconds;
        long evalsBefore = cache.blockEvals;
        try (Progress bar = progress ? Progress.start(String.format("phase %d/%d", ph.phase, total), (long) cands * windows, "win") : Progress.none()) {
            bar.stepTo((long) ph.candidates.size() * windows);
            for (int p = first + ph.candidates.size(); p <= last; p++) {
                PruneState.Candidate c = new PruneState.Candidate();
                c.block = alive[p];
                c.position = p;
                double sum = 0;
                for (int b = 0; b < batches.length; b++) {
                    Activations src = cache.source(p, b);
                    try (Activations x = lm.copy(src)) {
                        if (metric == Metric.COSINE) {
                            lm.runBlock(alive[p], x);
                            cache.blockEvals += batches[b].length;
                            sum += finite(lm.cosineSum(src, x), "cosine", b, ph, c.block);
                        } else {
                            for (int q = p + 1; q < m; q++) {
                                lm.runBlock(alive[q], x);
                                cache.blockEvals += batches[b].length;
                            }
                            sum += finite(lm.nll(x, batches[b]), "loss", b, ph, c.block);
                        }
                    }
                    cache.release(p, b, src);
                    bar.step(batches[b].length);
                }
                if (metric == Metric.COSINE) c.cosine = sum / ((double) windows * batches[0][0].length);
                else c.loss = sum;
                ph.candidates.add(c);
                ph.seconds = secondsBefore + (System.nanoTime() - t0) / 1e9;
                ph.block_evals += cache.blockEvals - evalsBefore;
                state.block_evals += cache.blockEvals - evalsBefore;
                evalsBefore = cache.blockEvals;
                listener.saved(state);
                if (CANDIDATE_DELAY_MS > 0) sleep(CANDIDATE_DELAY_MS);
            }
        }
        List<PruneState.Candidate> ranked = new ArrayList<>(ph.candidates);
        ranked.sort(order());
        PruneState.Candidate best = ranked.get(0);
        PruneState.Candidate second = ranked.size() > 1 ? ranked.get(1) : null;
        ph.selected = best.block;
        ph.selected_score = best.score();
        if (second != null) {
            ph.runner_up = second.block;
            ph.runner_up_score = second.score();
        }
        ph.complete = true;
        ph.seconds = secondsBefore + (System.nanoTime() - t0) / 1e9;
        state.official_block_evals += ph.official_block_evals;
        state.selection_seconds += ph.seconds - secondsBefore;
        String what = metric == Metric.COSINE ? "cosine" : "loss";
        if (metric == Metric.SLEB) {
            state.removal_order.add(best.block);
            cache.removed(best.position);
            listener.phaseLine(String.format(Locale.ROOT, "phase %d/%d: remove block %d (%s %.6f); runner-up block %s (%s); %.2f s, %d block evals (official %d)",
                    ph.phase, total, best.block, what, best.score(), second == null ? "-" : String.valueOf(second.block),
                    second == null ? "-" : String.format(Locale.ROOT, "%s %.6f", what, second.score()), ph.seconds, ph.block_evals, ph.official_block_evals));
        } else {
            StringBuilder sb = new StringBuilder();
            for (PruneState.Candidate c : ranked) sb.append(String.format(Locale.ROOT, " %d (%.6f)", c.block, c.score()));
            listener.phaseLine(String.format(Locale.ROOT, "%s ranking (best first, %s):%s; %.2f s, %d block evals", metric.label(), what, sb, ph.seconds, ph.block_evals));
        }
        listener.saved(state);
    }
}
