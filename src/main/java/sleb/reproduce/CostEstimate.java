package sleb.reproduce;

import sleb.model.ModelConfig;

/**
 * How much work each cell is, in one unit: one token through one block, weighted by the block's parameter count
 * (token × block-parameter). A full forward of T tokens through n blocks is T·n·P units (P = parameters per block);
 * time is units × seconds-per-unit, measured on the machine by a probe forward and refined by finished cells.
 * Attention's quadratic share and the lm_head are not counted: the estimate is a guide, not a promise.
 */
public final class CostEstimate {
    private CostEstimate() {}

    /** Perplexity: every token of the text (or the first maxWindows windows) through the kept blocks. */
    public static double eval(ModelConfig c, int blocks, long textChars, double charsPerToken, int seqlen, int maxWindows) {
        double tokens = textChars / charsPerToken;
        if (maxWindows > 0) tokens = Math.min(tokens, (double) maxWindows * seqlen);
        return tokens * blocks * c.blockParams();
    }

    /** Zero-shot: every request (context + continuation of every choice) through the kept blocks. */
    public static double zeroshot(ModelConfig c, int blocks, long requestChars, double charsPerToken) {
        return requestChars / charsPerToken * blocks * c.blockParams();
    }

    /**
     * SLEB selection with the hidden-state cache (docs/prune.md): in each phase every candidate reruns, on average,
     * half of the alive blocks over all calibration windows.
     */
    public static double prune(ModelConfig c, int remove, int early, int latter, int nsamples, int seqlen) {
        double blockTokens = 0;
        for (int p = 0; p < remove; p++) {
            int alive = c.nLayers - p;
            int candidates = Math.max(0, alive - early - latter);
            blockTokens += candidates * (alive / 2.0) * nsamples * seqlen;
        }
        return blockTokens * c.blockParams();
    }

    /** A latency protocol: dense and pruned variants, warm-up and timed iterations, batch × positions each. */
    public static double bench(ModelConfig c, int removed, int iterations, int batch, int positions) {
        return (double) iterations * batch * positions * (2.0 * c.nLayers - removed) * c.blockParams();
    }

    /** "1 h 05 min", "4 min", "35 s". */
    public static String duration(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) return "unknown";
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return (s + 30) / 60 + " min";
        long m = (s + 30) / 60;
        return m / 60 + " h " + String.format("%02d", m % 60) + " min";
    }
}
