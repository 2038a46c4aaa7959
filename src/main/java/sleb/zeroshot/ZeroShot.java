package sleb.zeroshot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.backend.LoadedModel;
import sleb.tokenizer.Tokenizer;
import sleb.util.Progress;

/**
 * Zero-shot multiple-choice accuracy as lm-evaluation-harness v0.4 reports it: acc (argmax of the choices'
 * loglikelihoods) and, where the harness reports it, acc_norm (argmax of loglikelihood / character length of the
 * choice), each with the standard error of the mean, sqrt(p(1-p)/(n-1)).
 */
public final class ZeroShot {
    /** The harness's default target_delimiter between context and choice. */
    public static final String TARGET_DELIMITER = " ";

    private ZeroShot() {}

    /**
     * A task's questions, the file they came from, and {@code deviation}: what the file's format keeps the harness's
     * protocol from doing (null when nothing; see {@link TaskReaders#HELLASWAG_SIX_LINE_DEVIATION}).
     */
    public record TaskData(Task task, Path file, List<Item> items, String deviation) {
        public TaskData(Task task, Path file, List<Item> items) { this(task, file, items, null); }

        public static TaskData load(Task task, Path file, int limit) throws IOException {
            List<Item> items = task.read(file);
            if (limit > 0 && items.size() > limit) items = items.subList(0, limit);
            String deviation = task == Task.HELLASWAG && TaskReaders.isHellaswagSixLine(file) ? TaskReaders.HELLASWAG_SIX_LINE_DEVIATION : null;
            return new TaskData(task, file, List.copyOf(items), deviation);
        }
    }

    public static final class Options {
        public boolean bos;
        /** Rows per forward pass; 0 for about {@link Scorer#AUTO_BATCH_TOKENS} tokens per pass. */
        public int batch;
        public boolean progress = true;

        public Options(boolean bos) { this.bos = bos; }
    }

    public static final class TaskResult {
        public String task;
        public String file;
        public int n;
        public double acc;
        public double accStderr;
        /** NaN where the harness does not report acc_norm for this task. */
        public double accNorm = Double.NaN;
        public double accNormStderr = Double.NaN;
        public int requests;
        public int truncated;
        public double seconds;
        /** "llamacpp" for llama-perplexity's scoring ({@link LlamaCppHellaswag}), null for the harness's. */
        public String protocol;
        /** With the llamacpp protocol: the file index of each scored item, in llama.cpp's order (logliks follow it). */
        public transient int[] itemOrder;
        /** What the task file's format kept the protocol from doing, or null. */
        public String deviation;
        /** Per item: the loglikelihood of each choice (kept for tests and --out). */
        public transient List<double[]> logliks;

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", task);
            if (protocol != null) m.put("protocol", protocol);
            m.put("file", file);
            m.put("n", n);
            m.put("acc", acc);
            m.put("acc_stderr", accStderr);
            if (!Double.isNaN(accNorm)) {
                m.put("acc_norm", accNorm);
                m.put("acc_norm_stderr", accNormStderr);
            }
            m.put("requests", requests);
            m.put("truncated_requests", truncated);
            m.put("seconds", seconds);
            if (deviation != null) m.put("deviation", deviation);
            return m;
        }
    }

    /** The harness's mean_stderr for a 0/1 metric: sample standard deviation / sqrt(n). */
    public static double stderr(double p, int n) {
        return n > 1 ? Math.sqrt(p * (1 - p) / (n - 1)) : Double.NaN;
    }

    /** np.argmax: the first index of the maximum. */
    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    public static TaskResult evaluate(LoadedModel lm, Tokenizer tok, TaskData data, int[] blocks, Options opt) {
        long t0 = System.nanoTime();
        int maxLen = lm.config().maxSeqLen; // the harness's max_length: max_position_embeddings (seq_len for llama2.c)
        List<Scorer.Encoded> reqs = new ArrayList<>();
        int truncated = 0;
        for (Item it : data.items()) {
            for (int c = 0; c < it.size(); c++) {
                Scorer.Encoded e = Scorer.encode(tok, it.contexts().get(c), it.continuations().get(c), opt.bos, maxLen);
                if (e.truncated()) truncated++;
                reqs.add(e);
            }
        }
        double[] ll;
        try (Progress bar = opt.progress ? Progress.start(data.task().id, reqs.size(), "req") : Progress.none()) {
            ll = Scorer.loglikelihoods(lm, blocks, reqs, opt.batch, bar);
        }
        TaskResult r = new TaskResult();
        r.task = data.task().id;
        r.file = data.file() == null ? null : data.file().toString();
        r.deviation = data.deviation();
        r.n = data.items().size();
        r.requests = reqs.size();
        r.truncated = truncated;
        r.logliks = new ArrayList<>();
        int k = 0, hit = 0, hitNorm = 0;
        for (Item it : data.items()) {
            double[] l = new double[it.size()], norm = new double[it.size()];
            for (int c = 0; c < it.size(); c++) {
                l[c] = ll[k++];
                String ch = it.choices().get(c);
                norm[c] = l[c] / ch.codePointCount(0, ch.length());
            }
            r.logliks.add(l);
            if (argmax(l) == it.gold()) hit++;
            if (argmax(norm) == it.gold()) hitNorm++;
        }
        r.acc = (double) hit / r.n;
        r.accStderr = stderr(r.acc, r.n);
        if (data.task().reportsAccNorm) {
            r.accNorm = (double) hitNorm / r.n;
            r.accNormStderr = stderr(r.accNorm, r.n);
        }
        r.seconds = (System.nanoTime() - t0) / 1e9;
        return r;
    }

    /**
     * Mean acc over tasks, and mean of acc_norm where reported (else acc), from result rows as
     * {@link TaskResult#toMap} writes them (rows of a resumed run come back from JSON in that form).
     */
    public static double[] means(List<Map<String, Object>> rows) {
        double a = 0, an = 0;
        for (Map<String, Object> r : rows) {
            double acc = ((Number) r.get("acc")).doubleValue();
            a += acc;
            an += r.containsKey("acc_norm") ? ((Number) r.get("acc_norm")).doubleValue() : acc;
        }
        return new double[] {a / rows.size(), an / rows.size()};
    }
}
