package sleb.backend;

/**
 * Logits at every position, for tests that compare whole forward passes: built from the public
 * {@link LoadedModel} API alone. Each position's hidden state becomes a sequence of length one, so
 * {@link LoadedModel#lastLogits} applies the final norm and lm_head to every row, the same computation
 * over the same rows in the same order as the backends' full-logits path it replaces.
 */
public final class ModelLogits {
    private ModelLogits() {}

    /** Final norm and lm_head for every position of x: logits [batch*seqLen][vocab], row b*seqLen + t. */
    public static float[][] every(LoadedModel lm, Activations x) {
        try (Activations rows = lm.fromHost(x.toHost(), x.batch() * x.seqLen(), 1)) {
            return lm.lastLogits(rows);
        }
    }

    /** Embed tokens [batch][seqLen], run only {@code blocks} in order, and return {@link #every} position's logits. */
    public static float[][] of(LoadedModel lm, int[][] tokens, int[] blocks) {
        try (Activations x = lm.embed(tokens)) {
            for (int b : blocks) lm.runBlock(b, x);
            return every(lm, x);
        }
    }
}
