package sleb.zeroshot;

import java.util.ArrayList;
import java.util.List;
import sleb.backend.LoadedModel;
import sleb.prune.PyRandom;
import sleb.tokenizer.Tokenizer;
import sleb.util.Progress;

/**
 * HellaSwag scored as {@code llama-perplexity --hellaswag [--hellaswag-tasks N]} scores it (llama.cpp
 * examples/perplexity/perplexity.cpp, hellaswag_score, commit c392e5094):
 * <ul>
 * <li>N items (all by default) drawn without replacement in llama.cpp's order: {@code std::mt19937 rng(1)}, each draw
 *     {@code std::uniform_int_distribution<size_t>(0, left - 1)} as libstdc++ computes it, the drawn item removed;</li>
 * <li>ending j is the text {@code context + " " + ending_j} tokenized with BOS first (when the tokenizer adds BOS);
 *     the common prefix is the number of leading tokens all four share;</li>
 * <li>an ending's score is the mean log-probability of its tokens past the common prefix, each given all tokens
 *     before it (the first one from the logits of the prefix's last token);</li>
 * <li>the prediction is the first ending with the highest score; llama.cpp prints the running accuracy x 100 after
 *     every item ("acc_norm") and, at this commit, no +/-.</li>
 * </ul>
 * The harness's acc_norm instead divides the summed log-likelihood by the ending's length in characters.
 */
public final class LlamaCppHellaswag {
    /** llama.cpp's hard-coded seed for the task order. */
    public static final int SEED = 1;

    private LlamaCppHellaswag() {}

    /**
     * libstdc++'s {@code uniform_int_distribution<size_t>(0, n - 1)} over a 32-bit generator (GCC 11 and later, as the
     * pinned llama.cpp binaries were built with GCC 12): Lemire's multiply-shift with rejection of the low word.
     */
    static long uniformBelow(PyRandom g, long n) {
        long product = (g.nextInt32() & 0xffffffffL) * n;
        long low = product & 0xffffffffL;
        if (low < n) {
            long threshold = ((1L << 32) - n) % n;
            while (low < threshold) {
                product = (g.nextInt32() & 0xffffffffL) * n;
                low = product & 0xffffffffL;
            }
        }
        return product >>> 32;
    }

    /** Indices (into the file's items) of the {@code count} items llama.cpp evaluates, in its order. */
    public static int[] order(int total, int count) {
        PyRandom g = PyRandom.cppMt19937(SEED);
        List<Integer> left = new ArrayList<>(total);
        for (int i = 0; i < total; i++) left.add(i);
        int[] out = new int[Math.min(count, total)];
        for (int i = 0; i < out.length; i++) out[i] = left.remove((int) uniformBelow(g, left.size()));
        return out;
    }

    /**
     * Scores {@code count} items of {@code data} (0: all) with only {@code blocks} run. The result's acc is llama.cpp's
     * figure (as a fraction, not x 100), acc_stderr the harness's sqrt(p(1-p)/(n-1)); {@code logliks} holds each item's
     * four scores and {@code itemOrder} the file indices, both in llama.cpp's order.
     */
    public static ZeroShot.TaskResult evaluate(LoadedModel lm, Tokenizer tok, ZeroShot.TaskData data, int count, int[] blocks, ZeroShot.Options opt) {
        long t0 = System.nanoTime();
        List<Item> items = data.items();
        int[] order = order(items.size(), count > 0 ? count : items.size());
        List<Scorer.Encoded> reqs = new ArrayList<>();
        for (int idx : order) {
            Item it = items.get(idx);
            int[][] seq = new int[it.size()][];
            for (int c = 0; c < it.size(); c++) {
                int[] ids = tok.encode(it.contexts().get(c) + it.continuations().get(c)); // context + " " + ending
                if (opt.bos) {
                    int[] b = new int[ids.length + 1];
                    b[0] = tok.bosId();
                    System.arraycopy(ids, 0, b, 1, ids.length);
                    ids = b;
                }
                seq[c] = ids;
            }
            int prefix = commonPrefix(seq);
            if (prefix == 0)
                throw new sleb.util.UsageException(data.task().id + " item " + idx + ": the endings share no first token, so llama.cpp's"
                        + " scoring (from the logits of the common prefix) cannot apply; put BOS first (--bos)");
            for (int[] s : seq) reqs.add(new Scorer.Encoded(s, prefix, false));
        }
        double[] ll;
        try (Progress bar = opt.progress ? Progress.start(data.task().id + " (llama.cpp)", reqs.size(), "req") : Progress.none()) {
            ll = Scorer.loglikelihoods(lm, blocks, reqs, opt.batch, bar);
        }
        ZeroShot.TaskResult r = new ZeroShot.TaskResult();
        r.task = data.task().id;
        r.file = data.file() == null ? null : data.file().toString();
        r.protocol = "llamacpp";
        r.n = order.length;
        r.requests = reqs.size();
        r.logliks = new ArrayList<>();
        r.itemOrder = order;
        int k = 0, hit = 0;
        for (int idx : order) {
            Item it = items.get(idx);
            double[] score = new double[it.size()];
            for (int c = 0; c < it.size(); c++, k++) score[c] = ll[k] / reqs.get(k).contLength();
            r.logliks.add(score);
            if (ZeroShot.argmax(score) == it.gold()) hit++;
        }
        r.acc = (double) hit / r.n;
        r.accStderr = ZeroShot.stderr(r.acc, r.n);
        r.seconds = (System.nanoTime() - t0) / 1e9;
        return r;
    }

    /**
     * The number of leading tokens all sequences share, at most one less than the shortest (so every ending keeps a
     * token to score; llama.cpp reads past the end there, which no real item reaches).
     */
    static int commonPrefix(int[][] seq) {
        int shortest = Integer.MAX_VALUE;
        for (int[] s : seq) shortest = Math.min(shortest, s.length);
        int p = 0;
        outer:
        while (p < shortest - 1) {
            for (int[] s : seq) if (s[p] != seq[0][p]) break outer;
            p++;
        }
        return p;
    }
}
