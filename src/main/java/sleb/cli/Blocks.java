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

    public static int[] all(int nLayers) {
        int[] a = new int[nLayers];
        for (int i = 0; i < nLayers; i++) a[i] = i;
        return a;
    }
}
