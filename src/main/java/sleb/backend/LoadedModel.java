package sleb.backend;

import sleb.model.ModelConfig;

/**
 * A model resident on a backend. The forward pass is exposed block by block so that a reduced-depth
 * model is the same model with blocks skipped, and so that SLEB can cache the hidden state entering a
 * block and rerun only what follows it.
 */
public interface LoadedModel extends AutoCloseable {
    ModelConfig config();

    Backend backend();

    /** Token embeddings for tokens [batch][seqLen] at positions 0..seqLen-1; all rows must have the same length. */
    Activations embed(int[][] tokens);

    /**
     * Token embeddings for tokens [batch][n] at positions pos0..pos0+n-1 (decode sessions append at pos0 > 0).
     * LLaMA-family models add positions inside the blocks (RoPE), so this is {@link #embed(int[][])}; OPT adds
     * its learned position row (pos + {@link sleb.model.OptLayout#POSITION_OFFSET}) to each token here, and a
     * backend that runs OPT must override this.
     */
    default Activations embed(int[][] tokens, int pos0) {
        if (pos0 != 0 && config().opt != null)
            throw new UnsupportedOperationException(backend().describe() + " does not embed OPT tokens past position 0");
        return embed(tokens);
    }

    /** x += attn(rmsnorm(x)); x += mlp(rmsnorm(x)) for block {@code layer}, in place. */
    void runBlock(int layer, Activations x);

    /**
     * Final norm, lm_head and log-softmax, fused so that no [tokens x vocab] array of the batch is kept.
     * Returns, per sequence, the summed negative log-likelihood of tokens[b][t+1] given positions 0..t,
     * over t = 0..seqLen-2 (seqLen-1 predictions per sequence), accumulated in double.
     */
    double[] nll(Activations x, int[][] tokens);

    /**
     * Like {@link #nll(Activations, int[][])} but per position: result[b][t] is the NLL of tokens[b][t+1]
     * given positions 0..t, t = 0..seqLen-2. Zero-shot scoring sums a continuation's share of these.
     */
    float[][] positionNll(Activations x, int[][] tokens);

    /**
     * {@link #positionNll(Activations, int[][])} when only positions t >= {@code from} are wanted (llama-perplexity
     * scores the second half of each chunk): a backend may skip lm_head before {@code from}, and result[b][t] for
     * t < from is then NaN. The default computes every position.
     */
    default float[][] positionNll(Activations x, int[][] tokens, int from) { return positionNll(x, tokens); }

    /** Final norm and lm_head for the last position of every sequence: logits [batch][vocab]. */
    float[][] lastLogits(Activations x);

    Activations copy(Activations x);

    /** Activations on this model's backend holding host data [batch][seqLen][dim] (moves between devices). */
    Activations fromHost(float[] data, int batch, int seqLen);

    /** Per sequence, the sum over positions of cos(a_t, b_t), accumulated in double. */
    double[] cosineSum(Activations a, Activations b);

    /**
     * How much memory SLEB's hidden-state cache may take when --cache-mib is not given: where activations
     * live. On the CPU a quarter of the JVM's max heap; on a GPU half of what is free after the weights.
     */
    default long defaultCacheBytes() { return Runtime.getRuntime().maxMemory() / 4; }

    /** Bytes free now for a forward pass's working buffers: on the CPU, the JVM heap not in use. */
    default long freeWorkingBytes() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /** {@link #freeWorkingBytes()} once garbage is collected (asked only before refusing a run for lack of memory). */
    default long freeWorkingBytesAfterCollection() {
        System.gc();
        return freeWorkingBytes();
    }

    /** How to get more working memory on this backend, for the refusal's last words. */
    default String freeWorkingBytesHint() { return ", or raise the heap (e.g. SLEB_JAVA_OPTS=-Xmx100g)"; }

    /** A decoding session with a KV cache of {@code maxLen} positions for {@code batch} sequences. */
    DecodeSession newSession(int batch, int maxLen, int[] blocks);

    /** Runs embed, the given blocks in order, and the fused NLL. */
    default double[] nll(int[][] tokens, int[] blocks) {
        try (Activations x = embed(tokens)) {
            for (int b : blocks) runBlock(b, x);
            return nll(x, tokens);
        }
    }

    /** Per-position NLL ({@link #positionNll(Activations, int[][])}) with only {@code blocks} run. */
    default float[][] positionNll(int[][] tokens, int[] blocks) { return positionNll(tokens, blocks, 0); }

    /** Per-position NLL from position {@code from} on ({@link #positionNll(Activations, int[][], int)}) with only {@code blocks} run. */
    default float[][] positionNll(int[][] tokens, int[] blocks, int from) {
        try (Activations x = embed(tokens)) {
            for (int b : blocks) runBlock(b, x);
            return from == 0 ? positionNll(x, tokens) : positionNll(x, tokens, from);
        }
    }

    @Override
    void close();
}
