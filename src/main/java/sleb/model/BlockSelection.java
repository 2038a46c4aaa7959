package sleb.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import sleb.util.UsageException;

/**
 * Which transformer blocks of a model run: a removal list checked against the block count (every index a block
 * of the model, none twice, at least one block kept) and its complement, the kept blocks in layer order, which is
 * what a {@code LoadedModel} runs. Made once per run and handed to everything that needs either list.
 */
public final class BlockSelection {
    private final int nLayers;
    private final List<Integer> removed;
    private final int[] kept;

    private BlockSelection(int nLayers, List<Integer> removed, int[] kept) {
        this.nLayers = nLayers;
        this.removed = removed;
        this.kept = kept;
    }

    /** A removal list as given (order kept, e.g. SLEB's removal order), checked against {@code nLayers} blocks. */
    public static BlockSelection removing(int nLayers, List<Integer> removed) {
        TreeSet<Integer> r = new TreeSet<>();
        for (int b : removed) {
            if (b < 0 || b >= nLayers) throw new Invalid("removal list", b + " is not a block of this model (blocks 0.." + (nLayers - 1) + ")");
            if (!r.add(b)) throw new Invalid("removal list", "lists block " + b + " twice");
        }
        if (r.size() >= nLayers) throw new Invalid("removal list", "would remove all " + nLayers + " blocks; keep at least one");
        int[] k = new int[nLayers - r.size()];
        for (int i = 0, j = 0; i < nLayers; i++) if (!r.contains(i)) k[j++] = i;
        return new BlockSelection(nLayers, Collections.unmodifiableList(new ArrayList<>(removed)), k);
    }

    /** Every block: the dense model. */
    public static BlockSelection dense(int nLayers) { return removing(nLayers, List.of()); }

    /**
     * The last ceil(ratio x nLayers) blocks before the final block (the official latency.py's pruned model for
     * timing: blocks chosen by position, not by SLEB).
     */
    public static BlockSelection lastBeforeFinal(int nLayers, double ratio) {
        int k = countFromRatio(ratio, nLayers);
        if (k >= nLayers) throw new Invalid("removal ratio", ratio + " would remove " + k + " of " + nLayers + " blocks; keep at least one");
        List<Integer> r = new ArrayList<>();
        for (int i = nLayers - 1 - k; i < nLayers - 1; i++) r.add(i);
        return removing(nLayers, r);
    }

    /**
     * The number of blocks a ratio removes: ceil(ratio x nLayers), as the official latency.py
     * ({@code int(np.ceil(num_of_blocks * removal_ratio))}), but computed on the decimal value the user wrote,
     * so 0.07 x 100 is 7 (a binary product gives 7.000000000000001 and so 8) and 0.30000000001 x 10 is 4.
     * The one rounding rule of every removal ratio.
     *
     * @throws Invalid when the ratio is not strictly between 0 and 1
     */
    public static int countFromRatio(double ratio, int nLayers) {
        if (!(ratio > 0 && ratio < 1)) throw new Invalid("removal ratio", "must be between 0 and 1 (exclusive), got " + ratio);
        return BigDecimal.valueOf(ratio).multiply(BigDecimal.valueOf(nLayers)).setScale(0, RoundingMode.CEILING).intValueExact();
    }

    public int nLayers() { return nLayers; }

    /** The removed blocks in the order given. */
    public List<Integer> removed() { return removed; }

    /** The removed blocks in ascending order. */
    public List<Integer> removedSorted() {
        List<Integer> s = new ArrayList<>(removed);
        s.sort(null);
        return s;
    }

    /** The blocks that run, in layer order (a copy). */
    public int[] kept() { return kept.clone(); }

    /** Every block index 0..nLayers-1, in order (a copy). */
    public int[] all() {
        int[] a = new int[nLayers];
        for (int i = 0; i < nLayers; i++) a[i] = i;
        return a;
    }

    /** A removal list or ratio that this model cannot take; {@link #problem} reads after the name a caller gives it (a flag, say). */
    public static final class Invalid extends UsageException {
        private final String problem;

        Invalid(String subject, String problem) {
            super(subject + " " + problem);
            this.problem = problem;
        }

        /** What is wrong, to follow the name of the list or ratio: "12 is not a block of this model (blocks 0..11)". */
        public String problem() { return problem; }
    }
}
