package sleb.eval;

import java.util.ArrayList;
import java.util.List;
import sleb.util.UsageException;

/**
 * Stops a run at the first non-finite loss (an overflow in the forward pass, or non-finite weights) with one line
 * saying where, so that no NaN perplexity is reported and no block is ranked by a NaN loss.
 */
public final class FiniteLoss {
    private FiniteLoss() {}

    /** Throws when {@code loss} is NaN or infinite; {@code where} names the window and the blocks run. */
    public static void check(double loss, String where) {
        if (!Double.isFinite(loss))
            throw new UsageException(where + ": the value is " + loss + " (the forward pass overflowed or the weights hold non-finite values);"
                    + " no result is reported; check the weights, or use a wider dtype");
    }

    /** The blocks of an {@code nLayers}-block model that are not in {@code blocks}, ascending. */
    public static List<Integer> removed(int nLayers, int[] blocks) {
        boolean[] run = new boolean[nLayers];
        for (int b : blocks) run[b] = true;
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < nLayers; i++) if (!run[i]) out.add(i);
        return out;
    }
}
