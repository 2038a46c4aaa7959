package sleb.eval;

import java.io.PrintStream;
import java.util.Locale;
import sleb.backend.LoadedModel;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.util.UsageException;

/**
 * The window length (--seqlen) of a run, set against what the model was trained on and what memory holds.
 * Default: min(2048, the trained context), the trained context being max_position_embeddings of a Hugging Face
 * config or seq_len of a llama2.c header. A longer explicit window is allowed with a warning naming both numbers
 * (llama.cpp warns the same way when n_ctx exceeds n_ctx_train). A window whose activations cannot fit is refused
 * before any work, with the bytes needed.
 */
public final class ContextLength {
    /** The SLEB paper's window, the default where the model was trained on at least that many tokens. */
    public static final int PAPER_SEQLEN = 2048;

    private ContextLength() {}

    /** The config key the trained context comes from: seq_len for llama2.c, max_position_embeddings otherwise. */
    static String trainedKey(Model m) {
        return m.format() == Model.SourceFormat.LLAMA2C ? "seq_len" : "max_position_embeddings";
    }

    /**
     * The window to use: {@code flag} when given (a warning on {@code err} when it exceeds the trained context; refused for OPT, whose
     * learned positions end there), else min(2048, trained context), the choice printed on {@code err}.
     */
    public static int choose(Integer flag, Model m, String flagName, PrintStream err) {
        int trained = m.config().maxSeqLen;
        String key = trainedKey(m);
        if (flag == null) {
            int s = Math.min(PAPER_SEQLEN, trained);
            err.println(flagName + " " + s + " (default: min(" + PAPER_SEQLEN + ", the model's trained context, " + key + " " + trained + "))");
            return s;
        }
        if (flag > trained && m.config().isOpt())
            throw new UsageException(flagName + " " + flag + " is longer than this OPT model's max_position_embeddings " + trained
                    + ": OPT's learned position table has no row past it; use " + flagName + " " + trained + " or less");
        if (flag > trained)
            err.println("warning: " + flagName + " " + flag + " is longer than the model's trained context (" + key + " " + trained
                    + "); positions past it were never trained, so the perplexity measures extrapolation");
        return flag;
    }

    /**
     * A lower bound on the working memory of one forward pass over {@code rows} tokens, in bytes: the fp32 buffers
     * every backend keeps per token (hidden state and its norm, queries and attention output, keys and values with
     * the transposed keys, gate and up projections): rows x (2 dim + 2 q_dim + 3 kv_dim + 2 intermediate) x 4.
     */
    public static long forwardBytes(ModelConfig c, long rows) {
        return rows * (2L * c.dim + 2L * c.qDim() + 3L * c.kvDim() + 2L * c.hiddenDim) * 4L;
    }

    /** Refuses a window of {@code batch} x {@code seqlen} tokens whose working memory exceeds what the backend has free. */
    public static void checkFits(LoadedModel lm, int batch, int seqlen, String flagName) {
        long need = forwardBytes(lm.config(), (long) batch * seqlen);
        long free = lm.freeWorkingBytes();
        if (need <= free) return;
        free = lm.freeWorkingBytesAfterCollection();
        if (need > free)
            throw new UsageException(String.format(Locale.ROOT, "%s %d x batch %d needs at least %d bytes (%.1f GiB) of activations, more than the %d bytes"
                    + " (%.1f GiB) free on %s; lower %s or --batch%s", flagName, seqlen, batch, need, need / 1073741824.0, free, free / 1073741824.0,
                    lm.backend().describe(), flagName, lm.freeWorkingBytesHint()));
    }
}
