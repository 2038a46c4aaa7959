package sleb.prune;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.tokenizer.Tokenizer;
import sleb.util.UsageException;

/**
 * Calibration windows for block selection, read from a local file (plain text, or the "text" fields of a
 * .jsonl / .jsonl.gz). Three samplings:
 * <ul>
 * <li>{@code random}: the text as one token stream; window i starts at {@code random.randint(0, len - seqlen - 1)}
 * drawn from CPython's generator after {@code random.seed(seed)} (see {@link PyRandom}), nsamples times, as
 * the paper's loader (utils/data_utils.get_wikitext2) draws them;</li>
 * <li>{@code contiguous}: the first nsamples non-overlapping windows of the stream;</li>
 * <li>{@code rows}: the official sleb.py loader's shape: the file's rows (lines, or JSON records) shuffled with
 * {@code random.shuffle} after {@code random.seed(seed)}, the first nsamples joined with "\n\n", tokenized,
 * and cut into every complete window.</li>
 * </ul>
 */
public final class Calibration {
    public enum Sampling {
        RANDOM, CONTIGUOUS, ROWS;

        public static Sampling parse(String s) {
            for (Sampling v : values()) if (v.name().equalsIgnoreCase(s)) return v;
            throw new UsageException("--calib-sampling " + s + " is not one of random, contiguous, rows");
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    public final int seqlen;
    /** Tokens in the stream the windows were cut from (the whole file, or the joined rows). */
    public final long streamTokens;
    public final int[][] windows;
    /** Start offsets into the stream (random, contiguous) or null (rows: every window in order). */
    public final long[] offsets;
    public final String sha256;

    private Calibration(int seqlen, long streamTokens, int[][] windows, long[] offsets) {
        this.seqlen = seqlen;
        this.streamTokens = streamTokens;
        this.windows = windows;
        this.offsets = offsets;
        this.sha256 = sha256(windows);
    }

    public static Calibration load(Path path, Sampling sampling, int nsamples, int seqlen, long seed, Tokenizer tok, boolean bos) throws IOException {
        if (nsamples < 1) throw new UsageException("--nsamples must be at least 1");
        if (seqlen < 2) throw new UsageException("--seqlen must be at least 2");
        if (!Files.isRegularFile(path)) throw new UsageException("calibration file " + path + " does not exist");
        switch (sampling) {
            case RANDOM: {
                int[] ids = TokenStream.of(tok, TextDatasets.load(new TextDatasets.Spec("calib", path)), bos);
                if (ids.length < seqlen + 1)
                    throw new UsageException("calibration " + path + " has " + ids.length + " tokens; random sampling of --seqlen " + seqlen
                            + " windows needs at least " + (seqlen + 1) + " (use a longer file or a smaller --seqlen)");
                PyRandom r = new PyRandom(seed);
                int[][] w = new int[nsamples][];
                long[] off = new long[nsamples];
                for (int i = 0; i < nsamples; i++) {
                    int o = (int) r.randint(0, ids.length - seqlen - 1);
                    off[i] = o;
                    w[i] = Arrays.copyOfRange(ids, o, o + seqlen);
                }
                return new Calibration(seqlen, ids.length, w, off);
            }
            case CONTIGUOUS: {
                int[] ids = TokenStream.of(tok, TextDatasets.load(new TextDatasets.Spec("calib", path)), bos);
                int have = ids.length / seqlen;
                if (have < nsamples)
                    throw new UsageException("calibration " + path + " has " + ids.length + " tokens = " + have + " complete windows of --seqlen " + seqlen
                            + ", but --nsamples " + nsamples + " asks for " + nsamples + " (" + (long) nsamples * seqlen + " tokens); lower --nsamples or --seqlen, or give more text");
                int[][] w = TokenStream.windows(ids, seqlen, nsamples);
                long[] off = new long[nsamples];
                for (int i = 0; i < nsamples; i++) off[i] = (long) i * seqlen;
                return new Calibration(seqlen, ids.length, w, off);
            }
            default: {
                List<String> rows = rows(path);
                if (rows.size() < nsamples)
                    throw new UsageException("calibration " + path + " has " + rows.size() + " rows but --nsamples " + nsamples + " asks for " + nsamples
                            + " (rows sampling counts rows, as the official loader does)");
                new PyRandom(seed).shuffle(rows);
                String text = String.join("\n\n", rows.subList(0, nsamples));
                int[] ids = TokenStream.of(tok, text, bos);
                int[][] w = TokenStream.windows(ids, seqlen, 0);
                if (w.length == 0)
                    throw new UsageException("calibration: the " + nsamples + " shuffled rows of " + path + " make " + ids.length
                            + " tokens, less than one window of --seqlen " + seqlen + "; raise --nsamples or lower --seqlen");
                return new Calibration(seqlen, ids.length, w, null);
            }
        }
    }

    /** Rows of a file: "text" fields of a .jsonl(.gz), else lines. */
    static List<String> rows(Path p) throws IOException {
        if (TextDatasets.isJsonLines(p)) return new ArrayList<>(TextDatasets.jsonTexts(p, Integer.MAX_VALUE));
        return new ArrayList<>(TextDatasets.readLines(p));
    }

    public long tokens() { return (long) windows.length * seqlen; }

    /** SHA-256 of the window token ids, each a little-endian int32, windows in order. */
    static String sha256(int[][] windows) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int[] w : windows) {
                ByteBuffer b = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int id : w) b.putInt(id);
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
