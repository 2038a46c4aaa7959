package sleb.zeroshot;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import sleb.backend.LoadedModel;
import sleb.tokenizer.Tokenizer;
import sleb.util.Progress;

/**
 * Loglikelihood requests as lm-evaluation-harness's HFLM scores them: the continuation's tokens are those of
 * (context + continuation) past the context's own tokens, trailing whitespace of the context moving to the
 * continuation first; an empty context becomes a lone prefix token (BOS, else EOS); inputs longer than the model's window lose tokens
 * on the left by the harness's rule (see {@link #encode}). loglik = -sum of the per-position NLL over the continuation's tokens.
 */
public final class Scorer {
    private Scorer() {}

    /** A request: the whole token sequence (BOS included if any) and where the continuation starts (at least 1). */
    public record Encoded(int[] tokens, int contStart, boolean truncated) {
        public int contLength() { return tokens.length - contStart; }
    }

    /**
     * The harness's _encode_pair without special tokens: {context tokens, continuation tokens}, the latter being
     * encode(context + continuation)[len(encode(context)):] after moving the context's trailing whitespace.
     */
    public static int[][] encodePair(Tokenizer tok, String context, String continuation) {
        int end = context.length();
        while (end > 0 && Character.isWhitespace(context.charAt(end - 1))) end--;
        if (end < context.length()) {
            continuation = context.substring(end) + continuation;
            context = context.substring(0, end);
        }
        int[] whole = tok.encode(context + continuation);
        int[] ctx = tok.encode(context);
        int cut = Math.min(ctx.length, whole.length);
        return new int[][] {ctx, Arrays.copyOfRange(whole, cut, whole.length)};
    }

    /**
     * One request, BOS first when {@code bos}. With {@code maxLen} &gt; 0 the harness's rule applies: the model reads
     * (context + continuation)[-(maxLen+1):][:-1], so a request of maxLen+1 tokens is whole (its last token is
     * only a target) and a longer one keeps its last maxLen+1 tokens; {@code truncated} says tokens were dropped.
     */
    public static Encoded encode(Tokenizer tok, String context, String continuation, boolean bos, int maxLen) {
        int[] ctx, cont;
        if (context.isEmpty()) {
            // HFLM.loglikelihood: an empty context is the prefix token, the continuation encoded alone
            ctx = new int[] {prefixToken(tok)};
            cont = tok.encode(continuation);
        } else {
            int[][] p = encodePair(tok, context, continuation);
            ctx = p[0];
            cont = p[1];
            if (bos || ctx.length == 0) ctx = prepend(bos ? tok.bosId() : prefixToken(tok), ctx);
        }
        int[] all = new int[ctx.length + cont.length];
        System.arraycopy(ctx, 0, all, 0, ctx.length);
        System.arraycopy(cont, 0, all, ctx.length, cont.length);
        int start = ctx.length;
        boolean truncated = false;
        if (maxLen > 0 && all.length > maxLen + 1) {
            int drop = all.length - (maxLen + 1);
            all = Arrays.copyOfRange(all, drop, all.length);
            start = Math.max(1, start - drop);
            truncated = true;
        }
        return new Encoded(all, start, truncated);
    }

    /** HFLM.prefix_token_id: BOS, or EOS for a tokenizer without BOS (Qwen2). */
    static int prefixToken(Tokenizer tok) {
        if (tok.hasBos()) return tok.bosId();
        if (tok.eosId() >= 0 && tok.eosId() < tok.vocabSize()) return tok.eosId();
        throw new sleb.util.UsageException(tok.describe() + " has neither a BOS nor an EOS token to start a request with an empty context");
    }

    private static int[] prepend(int first, int[] rest) {
        int[] a = new int[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    /** Default rows per forward pass: about this many tokens per batch. */
    public static final int AUTO_BATCH_TOKENS = 4096;

    /**
     * Loglikelihoods of all requests, run with only {@code blocks}. Requests are sorted by length (longest first,
     * as the harness does) and batched; each batch is right-padded to its longest sequence with the row's own last
     * token, which causal attention keeps from touching the positions scored. {@code batch} &gt; 0 fixes the rows per
     * batch, otherwise batches hold about {@link #AUTO_BATCH_TOKENS} tokens.
     */
    public static double[] loglikelihoods(LoadedModel lm, int[] blocks, List<Encoded> reqs, int batch, Progress bar) {
        int n = reqs.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -reqs.get(i).tokens().length).thenComparingInt(i -> i));
        double[] ll = new double[n];
        int i = 0;
        while (i < n) {
            int longest = reqs.get(order[i]).tokens().length;
            int rows = batch > 0 ? batch : Math.max(1, AUTO_BATCH_TOKENS / Math.max(1, longest));
            rows = Math.min(rows, n - i);
            int[][] toks = new int[rows][longest];
            for (int r = 0; r < rows; r++) {
                int[] t = reqs.get(order[i + r]).tokens();
                System.arraycopy(t, 0, toks[r], 0, t.length);
                Arrays.fill(toks[r], t.length, longest, t[t.length - 1]);
            }
            float[][] nll = lm.positionNll(toks, blocks);
            for (int r = 0; r < rows; r++) {
                Encoded e = reqs.get(order[i + r]);
                double s = 0;
                for (int t = e.contStart() - 1; t + 1 < e.tokens().length; t++) s += nll[r][t];
                ll[order[i + r]] = -s;
            }
            i += rows;
            if (bar != null) bar.step(rows);
        }
        return ll;
    }
}
