package sleb.prune;

import java.util.Map;
import sleb.backend.Activations;
import sleb.backend.LoadedModel;

/**
 * Hidden states entering the alive blocks of the current (pruned-so-far) model, per window batch, for
 * alive positions 1..last (position 0 is the embedding, recomputed for free). Entries are filled lazily as
 * the forward passes reach them, and stay valid across phases: removing the block at position r leaves the
 * inputs of positions 0..r unchanged (the input of r is now the input of the block that moved into r), so
 * only positions after r are dropped.
 *
 * <p>Memory is bounded: one position costs windows x seqlen x dim x 4 bytes. When positions 1..last do not
 * all fit, every k-th position is cached (the smallest k that fits), and a candidate at an uncached position
 * is reached by running forward from the nearest cached position below it. With no room at all (or
 * {@code --no-cache}), every candidate starts from the embeddings, which is the official algorithm's cost.
 */
final class HiddenCache implements AutoCloseable {
    private final LoadedModel lm;
    private final int[][][] batches;
    private final int stride; // 0: nothing cached
    private final Activations[][] ent; // [position][batch]
    private int[] alive;
    private int last;
    long blockEvals;

    private HiddenCache(LoadedModel lm, int[][][] batches, int stride, int maxPos) {
        this.lm = lm;
        this.batches = batches;
        this.stride = stride;
        this.ent = new Activations[maxPos + 1][batches.length];
    }

    static HiddenCache create(LoadedModel lm, int[][][] batches, int last, long budgetBytes, boolean off, Map<String, Object> info) {
        long perPos = 0;
        for (int[][] b : batches) perPos += 4L * b.length * b[0].length * lm.config().dim;
        int need = Math.max(0, last); // positions 1..last
        int stride;
        String mode;
        if (off) {
            stride = 0;
            mode = "off (--no-cache): every candidate runs from the embeddings, as the official code does";
        } else if (need == 0) {
            stride = 0;
            mode = "not needed (no candidate after position 0)";
        } else {
            long fit = budgetBytes / Math.max(1, perPos);
            if (fit >= need) {
                stride = 1;
                mode = "every alive block's input";
            } else if (fit == 0) {
                stride = 0;
                mode = "recompute: budget smaller than one position, every candidate runs from the embeddings";
            } else {
                int k = 2;
                while (need / k > fit) k++;
                stride = k;
                mode = "every " + ordinal(k) + " alive block's input (budget too small for all " + need + ")";
            }
        }
        int positions = stride == 0 ? 0 : need / stride;
        info.put("mode", mode);
        info.put("budget_mib", budgetBytes / 1048576.0);
        info.put("bytes_per_position", perPos);
        info.put("stride", stride);
        info.put("positions", positions);
        info.put("max_bytes", positions * perPos);
        return new HiddenCache(lm, batches, stride, Math.max(0, last));
    }

    String describe(Map<String, Object> info) {
        return String.format(java.util.Locale.ROOT, "cache: %s; %d positions x %.1f MiB = %.1f MiB of a %.0f MiB budget", info.get("mode"),
                ((Number) info.get("positions")).intValue(), ((Number) info.get("bytes_per_position")).longValue() / 1048576.0,
                ((Number) info.get("max_bytes")).longValue() / 1048576.0, ((Number) info.get("budget_mib")).doubleValue());
    }

    private boolean cached(int p) { return stride > 0 && p >= 1 && p <= last && p % stride == 0; }

    void setAlive(int[] alive, int last) {
        this.alive = alive;
        this.last = Math.min(last, ent.length - 1);
        for (int p = this.last + 1; p < ent.length; p++) drop(p);
    }

    /** The block at alive position r was removed: inputs of positions after r are stale. */
    void removed(int r) {
        for (int p = r + 1; p < ent.length; p++) drop(p);
    }

    private void drop(int p) {
        for (int b = 0; b < ent[p].length; b++) {
            if (ent[p][b] != null) {
                ent[p][b].close();
                ent[p][b] = null;
            }
        }
    }

    /** The hidden state entering alive position p for batch b; hand it back with {@link #release}. */
    Activations source(int p, int b) {
        if (cached(p) && ent[p][b] != null) return ent[p][b];
        int q = 0;
        for (int r = p - 1; r >= 1; r--) {
            if (cached(r) && ent[r][b] != null) {
                q = r;
                break;
            }
        }
        Activations x = q > 0 ? lm.copy(ent[q][b]) : lm.embed(batches[b]);
        for (int r = q; r < p; r++) {
            lm.runBlock(alive[r], x);
            blockEvals += batches[b].length;
            if (cached(r + 1) && ent[r + 1][b] == null) {
                if (r + 1 == p) {
                    ent[p][b] = x;
                    return x;
                }
                ent[r + 1][b] = lm.copy(x);
            }
        }
        return x;
    }

    void release(int p, int b, Activations src) {
        if (!(cached(p) && ent[p][b] == src)) src.close();
    }

    @Override
    public void close() {
        for (int p = 0; p < ent.length; p++) drop(p);
    }

    /** 2 -> "2nd", 3 -> "3rd", 11 -> "11th". */
    static String ordinal(int n) {
        int tens = n % 100, ones = n % 10;
        String sfx = tens >= 11 && tens <= 13 ? "th" : ones == 1 ? "st" : ones == 2 ? "nd" : ones == 3 ? "rd" : "th";
        return n + sfx;
    }
}
