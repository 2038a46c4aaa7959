package sleb.backend;

/** Incremental decoding with a KV cache, for generation and decode benchmarks. */
public interface DecodeSession extends AutoCloseable {
    /** Appends tokens [batch][n] at the current positions; returns the last position's logits [batch][vocab]. */
    float[][] prefill(int[][] tokens);

    /**
     * Runs this session's blocks over hidden states x [batch][n][dim] of the next n positions (in place),
     * appending their keys and values to the cache. A model split over devices keeps one session per
     * device and passes the hidden state from one to the next.
     */
    void appendHidden(Activations x);

    /** Appends one token per sequence; returns logits [batch][vocab]. */
    default float[][] step(int[] tokens) {
        int[][] t = new int[tokens.length][1];
        for (int i = 0; i < tokens.length; i++) t[i][0] = tokens[i];
        return prefill(t);
    }

    /** Positions filled so far. */
    int position();

    @Override
    void close();
}
