package sleb.eval;

import java.util.Arrays;
import sleb.backend.LoadedModel;
import sleb.tokenizer.Tokenizer;
import sleb.util.Progress;
import sleb.util.UsageException;

/**
 * Perplexity as {@code llama-perplexity -f FILE -c N_CTX} computes it (llama.cpp examples/perplexity/perplexity.cpp,
 * function {@code perplexity}, commit c392e5094), so SLEB-J's figures can be put beside llama.cpp's:
 * <ul>
 * <li>the file's text with one final '\n' dropped (as llama.cpp's {@code -f} reads it), tokenized as one stream with
 *     BOS first when the tokenizer adds BOS ({@code common_tokenize(..., add_special = true)});</li>
 * <li>at least 2 x n_ctx tokens are required; chunks are the non-overlapping windows [i·n_ctx, (i+1)·n_ctx),
 *     n_chunk = tokens / n_ctx (at most {@code --chunks});</li>
 * <li>the first token of every chunk is <em>replaced</em> by BOS when the tokenizer adds BOS (so chunk i &gt; 0 loses
 *     its first text token), positions restart at 0 in every chunk;</li>
 * <li>only the second half is scored: the logits at positions first..n_ctx-2, first = n_ctx/2, predicting tokens
 *     first+1..n_ctx-1, i.e. n_ctx - first - 1 tokens per chunk;</li>
 * <li>PPL = exp(mean NLL), and its ± as llama.cpp prints it: ppl · sqrt((mean(NLL²) - mean(NLL)²) / (count - 1)).</li>
 * </ul>
 * Sums run in double over per-token NLL values computed in fp32 with a double log-sum-exp, as llama.cpp's.
 */
public final class LlamaCppPerplexity {
    /** A finished or partial run: summed NLL and NLL² over the scored tokens of the chunks done. */
    public static final class Result {
        public String dataset;
        public long tokens;       // the whole stream, BOS included
        public int chunks;
        public int nCtx;
        public long scored;       // chunks * (n_ctx - n_ctx/2 - 1)
        public double nll;
        public double nll2;
        public double ppl;
        /** llama.cpp's "±": ppl times the standard error of the mean NLL. */
        public double pplStderr;
        public double seconds;
        public double tokensPerSecond;

        public java.util.Map<String, Object> toJson() {
            java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("protocol", "llamacpp");
            row.put("tokens", tokens);
            row.put("chunks", chunks);
            row.put("n_ctx", nCtx);
            row.put("scored_tokens", scored);
            row.put("nll", nll);
            row.put("nll2", nll2);
            row.put("ppl", ppl);
            row.put("ppl_stderr", pplStderr);
            row.put("seconds", seconds);
            row.put("tokens_per_second", tokensPerSecond);
            return row;
        }
    }

    /** Receives the running sums so a long evaluation can be saved and resumed. */
    public interface Checkpoint {
        void save(int chunksDone, double nll, double nll2) throws java.io.IOException;
    }

    private LlamaCppPerplexity() {}

    /** The token stream llama-perplexity evaluates: the text less one final '\n', BOS first when {@code bos}. */
    public static int[] tokens(Tokenizer tok, String text, boolean bos) {
        if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
        return TokenStream.of(tok, text, bos);
    }

    /**
     * The chunks of n_ctx tokens llama-perplexity decodes, the first token of each replaced by {@code bosId} when
     * {@code bosId >= 0}; at most {@code maxChunks} (0: all). Fewer than 2 x n_ctx tokens is refused as llama.cpp does.
     */
    public static int[][] chunks(String dataset, int[] tokens, int nCtx, int maxChunks, int bosId) {
        if (tokens.length < 2L * nCtx)
            throw new UsageException(dataset + ": " + tokens.length + " tokens; --protocol llamacpp needs at least 2 x --seqlen = "
                    + 2L * nCtx + " tokens (as llama-perplexity); lower --seqlen or give more text");
        int n = tokens.length / nCtx;
        if (maxChunks > 0) n = Math.min(n, maxChunks);
        int[][] c = new int[n][];
        for (int i = 0; i < n; i++) {
            c[i] = Arrays.copyOfRange(tokens, i * nCtx, (i + 1) * nCtx);
            if (bosId >= 0) c[i][0] = bosId;
        }
        return c;
    }

    /** The first scored logit position of a chunk: n_ctx/2, as llama.cpp's {@code first}. */
    public static int first(int nCtx) { return nCtx / 2; }

    /**
     * Scores {@code chunks} with only {@code blocks} run, continuing from {@code start} chunks already summed to
     * {@code startNll}/{@code startNll2}; chunks are summed in order either way, so a resumed total equals an
     * uninterrupted one. A non-finite loss stops the run with a line naming the chunk ({@link FiniteLoss}).
     */
    public static Result run(LoadedModel model, String dataset, long streamTokens, int[][] chunks, int[] blocks, int batch, boolean progress,
                             int start, double startNll, double startNll2, Checkpoint checkpoint) throws java.io.IOException {
        int nCtx = chunks[0].length, first = first(nCtx);
        long t0 = System.nanoTime(), lastSave = t0;
        double nll = startNll, nll2 = startNll2;
        try (Progress bar = progress ? Progress.start(dataset, chunks.length, "chunk") : Progress.none()) {
            bar.stepTo(start);
            for (int i = start; i < chunks.length; i += batch) {
                int n = Math.min(batch, chunks.length - i);
                float[][] per = model.positionNll(Arrays.copyOfRange(chunks, i, i + n), blocks, first); // lm_head for the scored half only, as llama.cpp
                for (int j = 0; j < n; j++) {
                    double chunkNll = 0, chunkNll2 = 0;
                    for (int t = first; t < nCtx - 1; t++) { // per[j][t]: NLL of token t+1 given positions 0..t
                        double v = per[j][t];
                        chunkNll += v;
                        chunkNll2 += v * v;
                    }
                    if (!Double.isFinite(chunkNll))
                        FiniteLoss.check(chunkNll, String.format("%s: chunk %d of %d (tokens %d..%d of the stream), removed blocks %s",
                                dataset, i + j, chunks.length, (long) (i + j) * nCtx, (long) (i + j + 1) * nCtx - 1,
                                FiniteLoss.removed(model.config().nLayers, blocks)));
                    nll += chunkNll;
                    nll2 += chunkNll2;
                }
                bar.step(n);
                long now = System.nanoTime();
                if (checkpoint != null && (now - lastSave > 5_000_000_000L || i + n == chunks.length)) {
                    checkpoint.save(i + n, nll, nll2);
                    lastSave = now;
                }
            }
        }
        Result r = new Result();
        r.dataset = dataset;
        r.tokens = streamTokens;
        r.chunks = chunks.length;
        r.nCtx = nCtx;
        r.scored = (long) chunks.length * (nCtx - first - 1);
        r.nll = nll;
        r.nll2 = nll2;
        double mean = nll / r.scored;
        r.ppl = Math.exp(mean);
        double var = nll2 / r.scored - mean * mean;
        r.pplStderr = var > 0 && r.scored > 1 ? Math.sqrt(var / (r.scored - 1)) * r.ppl : Double.NaN;
        r.seconds = (System.nanoTime() - t0) / 1e9;
        r.tokensPerSecond = (double) (chunks.length - start) * nCtx / r.seconds;
        return r;
    }
}
