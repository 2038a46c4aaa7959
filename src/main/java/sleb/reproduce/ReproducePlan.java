package sleb.reproduce;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.model.BlockSelection;
import sleb.zeroshot.Item;
import sleb.zeroshot.Task;
import sleb.zeroshot.ZeroShot;

/**
 * The cells of a reproduction in the order they run: per model, the dense perplexity and zero-shot cells, then per
 * ratio SLEB's selection, the pruned model's perplexity and zero-shot accuracy, and the two latency protocols
 * (each timing dense and pruned in one process). Datasets and tasks whose files are absent get no cell; the tables
 * mark them "no data".
 */
public final class ReproducePlan {
    public final ReproduceSettings settings;
    public final List<ModelEntry> models;
    /** Perplexity datasets with a file: name (wikitext2, c4) → path. */
    public final Map<String, Path> evalData = new LinkedHashMap<>();
    /** Zero-shot tasks of the paper with a file under the zero-shot directory. */
    public final List<ZeroShot.TaskData> tasks = new ArrayList<>();
    public final List<Cell> cells = new ArrayList<>();

    public ReproducePlan(ReproduceSettings s, List<ModelEntry> models, Path outDir) throws IOException {
        this.settings = s;
        this.models = models;
        if (s.wikitext2 != null) evalData.put("wikitext2", s.wikitext2);
        if (s.c4 != null) evalData.put("c4", s.c4);
        if (s.zeroshotDir != null)
            for (String name : ReproduceSettings.PAPER_TASKS) {
                Task t = Task.parse(name);
                Path f = t.defaultFile(s.zeroshotDir);
                if (Files.isRegularFile(f)) tasks.add(ZeroShot.TaskData.load(t, f, s.zeroshotLimit));
            }
        long textChars = 0;
        for (Path p : evalData.values()) textChars += Files.size(p);
        long requestChars = 0;
        for (ZeroShot.TaskData d : tasks)
            for (Item it : d.items())
                for (int i = 0; i < it.size(); i++) requestChars += it.contexts().get(i).length() + it.continuations().get(i).length();
        for (int m = 0; m < models.size(); m++) {
            ModelEntry e = models.get(m);
            Path dir = outDir.resolve(e.label());
            int n = e.config().nLayers;
            for (double r : withDense(s.ratios)) {
                Path rd = dir.resolve(Cell.ratioDir(r));
                int removed = r == 0 ? 0 : BlockSelection.countFromRatio(r, n);
                int kept = n - removed;
                if (r > 0) add(m, r, Cell.Kind.PRUNE, rd, CostEstimate.prune(e.config(), removed, s.earlyBarrier, s.latterBarrier, s.nsamples, s.seqlen));
                if (!evalData.isEmpty())
                    add(m, r, Cell.Kind.EVAL, rd, CostEstimate.eval(e.config(), kept, textChars, e.charsPerToken(), s.seqlen, s.evalMaxWindows * evalData.size()));
                if (!tasks.isEmpty()) add(m, r, Cell.Kind.ZEROSHOT, rd, CostEstimate.zeroshot(e.config(), kept, requestChars, e.charsPerToken()));
                if (r > 0 && s.bench) {
                    add(m, r, Cell.Kind.BENCH_PROMPT, rd, CostEstimate.bench(e.config(), removed, benchRuns(50, 2), 1, 2048));
                    add(m, r, Cell.Kind.BENCH_GENERATE, rd, CostEstimate.bench(e.config(), removed, benchRuns(10, 1), 64, 64 + 128));
                }
            }
        }
    }

    private int benchRuns(int paperIters, int warmup) {
        return (settings.benchIters > 0 ? settings.benchIters : paperIters) + warmup;
    }

    private void add(int model, double ratio, Cell.Kind kind, Path dir, double units) {
        cells.add(new Cell(model, ratio, kind, dir.resolve(kind.fileName()), units));
    }

    /** 0 (dense) followed by the ratios. */
    public static List<Double> withDense(List<Double> ratios) {
        List<Double> all = new ArrayList<>();
        all.add(0.0);
        all.addAll(ratios);
        return all;
    }

    public double totalUnits() {
        double u = 0;
        for (Cell c : cells) u += c.units();
        return u;
    }
}
