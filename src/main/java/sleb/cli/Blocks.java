package sleb.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import sleb.util.UsageException;

/** Block lists: which blocks to remove, and the ones that then run. */
public final class Blocks {
    private Blocks() {}

    /** The kept blocks in order, after checking that every removed index exists and appears once. */
    public static int[] keep(int nLayers, List<Integer> removed) {
        TreeSet<Integer> r = new TreeSet<>();
        for (int b : removed) {
            if (b < 0 || b >= nLayers) throw new UsageException("--remove " + b + " is not a block of this model (blocks 0.." + (nLayers - 1) + ")");
            if (!r.add(b)) throw new UsageException("block " + b + " is listed twice in --remove");
        }
        if (r.size() >= nLayers) throw new UsageException("--remove would remove all " + nLayers + " blocks; keep at least one");
        List<Integer> k = new ArrayList<>();
        for (int i = 0; i < nLayers; i++) if (!r.contains(i)) k.add(i);
        return k.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The number of blocks a ratio removes: ceil(ratio x nLayers), as the official latency.py
     * ({@code int(np.ceil(num_of_blocks * removal_ratio))}), but computed on the decimal value the user wrote,
     * so 0.07 x 100 is 7 (a binary product gives 7.000000000000001 and so 8) and 0.30000000001 x 10 is 4.
     * The one rounding rule of every --...-ratio flag.
     *
     * @throws UsageException when the ratio is not strictly between 0 and 1
     */
    public static int countFromRatio(String flag, double ratio, int nLayers) {
        if (!(ratio > 0 && ratio < 1)) throw new UsageException(flag + " must be between 0 and 1 (exclusive), got " + ratio);
        return java.math.BigDecimal.valueOf(ratio).multiply(java.math.BigDecimal.valueOf(nLayers))
                .setScale(0, java.math.RoundingMode.CEILING).intValueExact();
    }

    public static int[] all(int nLayers) {
        int[] a = new int[nLayers];
        for (int i = 0; i < nLayers; i++) a[i] = i;
        return a;
    }
}
