package sleb.reproduce;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines a reproduction's results: recorded in DIR/reproduce.json and compared on every rerun,
 * so a changed setting is refused rather than mixed into tables made with the old one. Defaults are the paper's
 * (SLEB, Section 5: seqlen 2048, 128 calibration windows of WikiText-2 train, barriers 1 and 1, seed 0).
 */
public final class ReproduceSettings {
    public List<Path> models = new ArrayList<>();
    /** One per model, or null where the tokenizer beside the model is used. */
    public List<Path> tokenizers = new ArrayList<>();
    public Path calib;
    public Path wikitext2;
    public Path c4;
    public Path zeroshotDir;
    public List<Double> ratios = new ArrayList<>(List.of(0.1, 0.2));
    public int seqlen = 2048;
    public int nsamples = 128;
    public long seed = 0;
    public int earlyBarrier = 1;
    public int latterBarrier = 1;
    /** 0: every window. */
    public int evalMaxWindows;
    /** 0: every question. */
    public int zeroshotLimit;
    /** 0: the protocols' own (prompt 50, generate 10). */
    public int benchIters;
    public boolean bench = true;
    public String device = "auto";

    /** The five tasks the paper averages in Table 2, in the harness's names. */
    public static final List<String> PAPER_TASKS = List.of("piqa", "winogrande", "hellaswag", "arc_easy", "arc_challenge");

    /** The recorded form: absolute paths, so a rerun from another directory compares equal. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<String> ms = new ArrayList<>(), ts = new ArrayList<>();
        for (Path p : models) ms.add(abs(p));
        for (Path p : tokenizers) ts.add(p == null ? "beside the model" : abs(p));
        m.put("models", ms);
        m.put("tokenizers", ts);
        m.put("calib", abs(calib));
        m.put("wikitext2", wikitext2 == null ? "no data" : abs(wikitext2));
        m.put("c4", c4 == null ? "no data" : abs(c4));
        m.put("zeroshot_dir", zeroshotDir == null ? "no data" : abs(zeroshotDir));
        m.put("ratios", ratios);
        m.put("seqlen", seqlen);
        m.put("nsamples", nsamples);
        m.put("seed", seed);
        m.put("early_barrier", earlyBarrier);
        m.put("latter_barrier", latterBarrier);
        m.put("eval_max_windows", evalMaxWindows);
        m.put("zeroshot_limit", zeroshotLimit);
        m.put("bench_iters", benchIters);
        m.put("bench", bench);
        m.put("device", device);
        return m;
    }

    /** The settings that differ from the paper's protocol, for the tables' notes ("seqlen 128 (paper: 2048)"). */
    public List<String> deviations() {
        List<String> d = new ArrayList<>();
        if (seqlen != 2048) d.add("seqlen " + seqlen + " (paper: 2048)");
        if (nsamples != 128) d.add("calibration windows " + nsamples + " (paper: 128)");
        if (earlyBarrier != 1 || latterBarrier != 1) d.add("barriers " + earlyBarrier + "/" + latterBarrier + " (paper: 1/1)");
        if (evalMaxWindows > 0) d.add("perplexity on the first " + evalMaxWindows + " windows only (paper: all)");
        if (zeroshotLimit > 0) d.add("zero-shot on the first " + zeroshotLimit + " questions of each task only (paper: all)");
        if (benchIters > 0) d.add(benchIters + " timed iterations per latency protocol (paper: prompt 50, generation 10)");
        return d;
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }
}
