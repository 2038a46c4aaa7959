package sleb.eval;

import java.util.Arrays;
import sleb.tokenizer.Tokenizer;

/** Text tokenized as one stream, with one BOS at the start when asked. */
public final class TokenStream {
    private TokenStream() {}

    public static int[] of(Tokenizer tok, String text, boolean bos) {
        int[] ids = tok.encode(text);
        if (!bos) return ids;
        if (!tok.hasBos()) throw new IllegalArgumentException(tok.describe() + " has no BOS token; callers check with Tokenizers.bos");
        int[] out = new int[ids.length + 1];
        out[0] = tok.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /**
     * The evaluation windows of a dataset: its text prepared by preset, tokenized as one stream, cut to
     * 256 x seqlen tokens for c4 (as the official code), then into windows; too little text is refused.
     */
    public static int[][] evalWindows(TextDatasets.Spec spec, Tokenizer tok, boolean bos, int seqlen, int maxWindows) throws java.io.IOException {
        int[] ids = of(tok, TextDatasets.load(spec), bos);
        if (spec.name.equals("c4")) ids = Arrays.copyOf(ids, Math.min(ids.length, TextDatasets.C4_WINDOWS * seqlen));
        int[][] w = windows(ids, seqlen, maxWindows);
        if (w.length == 0)
            throw new sleb.util.UsageException(spec.name + ": " + ids.length + " tokens is less than one window of --seqlen " + seqlen);
        return w;
    }

    /** Cuts the stream into non-overlapping windows of seqlen tokens, dropping the incomplete tail. */
    public static int[][] windows(int[] tokens, int seqlen, int maxWindows) {
        int n = tokens.length / seqlen;
        if (maxWindows > 0) n = Math.min(n, maxWindows);
        int[][] w = new int[n][];
        for (int i = 0; i < n; i++) w[i] = Arrays.copyOfRange(tokens, i * seqlen, (i + 1) * seqlen);
        return w;
    }
}
