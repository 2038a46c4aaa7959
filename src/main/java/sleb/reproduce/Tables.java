package sleb.reproduce;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sleb.util.AtomicFiles;
import sleb.util.Json;
import sleb.zeroshot.Task;

/**
 * The paper's Tables 1 and 2 from the cells' results files: table1 (C4 and WikiText-2 perplexity, generation
 * throughput improvement) and table2 (mean zero-shot accuracy over the paper's five tasks, prompt latency
 * speedup), each as markdown (methods as rows, models as columns, as the paper lays them out), CSV and JSON (one
 * record per figure). Every figure of a paper model has the published value and the difference beside it; a
 * figure without data says why ("no data": its dataset or task file was not given; "not run yet").
 */
public final class Tables {
    /** One figure: measured (NaN if none), published (NaN if none) and, when measured is NaN, why. */
    public record Figure(String table, String metric, String model, String method, double ratio, List<Integer> removed,
                         double measured, double published, String status) {
        public double difference() { return measured - published; }
    }

    private final ReproducePlan plan;
    private final Path outDir;
    public final List<Figure> figures = new ArrayList<>();

    public Tables(ReproducePlan plan, Path outDir) throws IOException {
        this.plan = plan;
        this.outDir = outDir;
        for (ModelEntry m : plan.models)
            for (double r : ReproducePlan.withDense(plan.settings.ratios)) collect(m, r);
    }

    private Path cellFile(ModelEntry m, double r, Cell.Kind k) {
        return outDir.resolve(m.label()).resolve(Cell.ratioDir(r)).resolve(k.fileName());
    }

    private void collect(ModelEntry m, double r) throws IOException {
        PaperValues.PaperModel p = m.paper();
        List<Integer> removed = removed(m, r);
        String method = Cell.method(r);
        JsonObject eval = CellStatus.results(cellFile(m, r, Cell.Kind.EVAL), Cell.Kind.EVAL);
        for (String ds : List.of("c4", "wikitext2")) {
            double published = ds.equals("c4") && p != null ? PaperValues.PaperModel.at(p.c4Ppl(), r) : Double.NaN;
            String metric = ds.equals("c4") ? "C4 perplexity" : "WikiText-2 perplexity";
            if (!plan.evalData.containsKey(ds)) add("table1", metric, m, method, r, removed, Double.NaN, published, "no data");
            else add("table1", metric, m, method, r, removed, eval == null ? Double.NaN : ppl(eval, ds), published, eval == null ? "not run yet" : "");
        }
        double pubThroughput = p == null || p.throughputTokensPerSecond() == null ? Double.NaN
                : PaperValues.PaperModel.at(p.throughputTokensPerSecond(), r) / p.throughputTokensPerSecond()[0];
        double pubLatency = p == null || p.promptLatencyMs() == null ? Double.NaN
                : p.promptLatencyMs()[0] / PaperValues.PaperModel.at(p.promptLatencyMs(), r);
        speed("table1", "throughput improvement (generation 64x(64+128))", m, r, removed, Cell.Kind.BENCH_GENERATE, pubThroughput);

        JsonObject zs = CellStatus.results(cellFile(m, r, Cell.Kind.ZEROSHOT), Cell.Kind.ZEROSHOT);
        double published = p == null ? Double.NaN : PaperValues.PaperModel.at(p.meanAccuracy(), r);
        if (plan.tasks.isEmpty()) add("table2", "mean zero-shot accuracy (%)", m, method, r, removed, Double.NaN, published, "no data");
        else if (zs == null) add("table2", "mean zero-shot accuracy (%)", m, method, r, removed, Double.NaN, published, "not run yet");
        else {
            int have = plan.tasks.size(), all = ReproduceSettings.PAPER_TASKS.size();
            String status = have < all ? "partial: " + have + " of " + all + " tasks, not comparable with the paper" : "";
            add("table2", "mean zero-shot accuracy (%)", m, method, r, removed, meanOfPresent(zs), published, status);
            for (String t : ReproduceSettings.PAPER_TASKS) {
                double a = accuracy(zs, Task.parse(t));
                add("table2", t + " accuracy (%)", m, method, r, removed, a, Double.NaN, Double.isNaN(a) ? "no data" : "");
            }
        }
        speed("table2", "prompt latency speedup (1x2048)", m, r, removed, Cell.Kind.BENCH_PROMPT, pubLatency);
    }

    private void speed(String table, String metric, ModelEntry m, double r, List<Integer> removed, Cell.Kind kind, double published) throws IOException {
        String method = Cell.method(r);
        if (!plan.settings.bench) {
            add(table, metric, m, method, r, removed, Double.NaN, published, "not measured (--no-bench)");
            return;
        }
        if (r == 0) { // dense is the reference of every speedup
            add(table, metric, m, method, r, removed, 1.0, published, "");
            return;
        }
        JsonObject b = CellStatus.results(cellFile(m, r, kind), kind);
        if (b == null) {
            add(table, metric, m, method, r, removed, Double.NaN, published, "not run yet");
            return;
        }
        JsonObject check = b.getAsJsonObject("check");
        String status = "";
        if (check != null && !check.get("trustworthy").getAsBoolean()) {
            List<String> why = new ArrayList<>();
            for (JsonElement w : check.getAsJsonArray("warnings")) why.add(w.getAsString());
            status = "not for publication: " + String.join("; ", why);
        }
        add(table, metric, m, method, r, removed, b.get("speedup").getAsDouble(), published, status);
    }

    private double meanOfPresent(JsonObject zs) {
        double s = 0;
        int n = 0;
        for (String t : ReproduceSettings.PAPER_TASKS) {
            double a = accuracy(zs, Task.parse(t));
            if (!Double.isNaN(a)) {
                s += a;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** acc_norm where the harness reports it, else acc, in %; NaN when the task is not in the file. */
    static double accuracy(JsonObject zs, Task t) {
        for (JsonElement e : zs.getAsJsonArray("results")) {
            JsonObject row = e.getAsJsonObject();
            if (!row.get("task").getAsString().equals(t.id)) continue;
            String key = t.reportsAccNorm && row.has("acc_norm") && !row.get("acc_norm").isJsonNull() ? "acc_norm" : "acc";
            return 100 * row.get(key).getAsDouble();
        }
        return Double.NaN;
    }

    private static double ppl(JsonObject eval, String ds) {
        for (JsonElement e : eval.getAsJsonArray("results")) {
            JsonObject row = e.getAsJsonObject();
            if (row.get("dataset").getAsString().equals(ds)) return row.get("ppl").getAsDouble();
        }
        return Double.NaN;
    }

    private List<Integer> removed(ModelEntry m, double r) throws IOException {
        List<Integer> out = new ArrayList<>();
        if (r == 0) return out;
        JsonObject run = CellStatus.results(cellFile(m, r, Cell.Kind.PRUNE), Cell.Kind.PRUNE);
        if (run == null) return null;
        for (JsonElement e : run.getAsJsonArray("removal_order")) out.add(e.getAsInt());
        return out;
    }

    private void add(String table, String metric, ModelEntry m, String method, double r, List<Integer> removed, double measured, double published, String status) {
        figures.add(new Figure(table, metric, m.label(), method, r, removed, measured, published, status));
    }

    /** Writes table1/table2 as .md, .csv and .json into the output directory, each atomically. */
    public void write() throws IOException {
        for (String t : List.of("table1", "table2")) {
            AtomicFiles.writeString(outDir.resolve(t + ".md"), markdown(t));
            AtomicFiles.writeString(outDir.resolve(t + ".csv"), csv(t));
            AtomicFiles.writeString(outDir.resolve(t + ".json"), Json.GSON_KEEP_NULLS.toJson(json(t)) + "\n");
        }
    }

    String markdown(String table) {
        StringBuilder b = new StringBuilder();
        b.append(table.equals("table1") ? "# Table 1: perplexity and generation throughput\n\n" : "# Table 2: zero-shot accuracy and prompt latency\n\n");
        b.append("Made by `sleb reproduce`. Each measured figure has the SLEB paper's published value and the difference "
                + "(measured − paper) beside it where the paper reports that model.\n");
        List<String> dev = plan.settings.deviations();
        if (!dev.isEmpty()) b.append("\nSettings that differ from the paper: ").append(String.join("; ", dev)).append(".\n");
        b.append("Speedups are measured on this machine, dense and pruned alternating in one process (`sleb bench`); the paper's are ")
                .append(PaperValues.SPEED_SETUP).append(".\n");
        List<String> metrics = new ArrayList<>();
        for (Figure f : figures) if (f.table.equals(table) && !metrics.contains(f.metric)) metrics.add(f.metric);
        for (String metric : metrics) {
            b.append("\n## ").append(metric).append("\n\n| method |");
            for (ModelEntry m : plan.models) b.append(' ').append(m.label()).append(m.paper() != null ? " (" + m.paper().name() + ")" : "").append(" |");
            b.append("\n|---|");
            b.append("---|".repeat(plan.models.size())).append('\n');
            for (double r : ReproducePlan.withDense(plan.settings.ratios)) {
                b.append("| ").append(Cell.method(r)).append(" |");
                for (ModelEntry m : plan.models) b.append(' ').append(cellText(find(table, metric, m.label(), r))).append(" |");
                b.append('\n');
            }
        }
        List<String> notes = new ArrayList<>();
        for (Figure f : figures)
            if (f.table.equals(table) && f.status.contains(":")) notes.add("- " + f.model + ", " + f.method + ", " + f.metric + ": " + f.status);
        if (!notes.isEmpty()) b.append("\n## Notes\n\n").append(String.join("\n", notes)).append('\n');
        b.append("\n## Blocks removed (SLEB's order)\n\n| model |");
        for (double r : plan.settings.ratios) b.append(' ').append(Cell.method(r)).append(" |");
        b.append("\n|---|").append("---|".repeat(plan.settings.ratios.size())).append('\n');
        for (ModelEntry m : plan.models) {
            b.append("| ").append(m.label()).append(" (").append(m.config().nLayers).append(" blocks) |");
            for (double r : plan.settings.ratios) {
                Figure f = find(table, null, m.label(), r);
                b.append(' ').append(f == null || f.removed == null ? "not run yet" : f.removed.toString()).append(" |");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private Figure find(String table, String metric, String model, double r) {
        for (Figure f : figures)
            if (f.table.equals(table) && (metric == null || f.metric.equals(metric)) && f.model.equals(model) && f.ratio == r) return f;
        return null;
    }

    static String cellText(Figure f) {
        if (f == null) return "";
        String unit = f.metric.contains("speedup") || f.metric.contains("improvement") ? "x" : "";
        String fmt = unit.isEmpty() ? "%.2f" : "%.2f" + unit;
        if (Double.isNaN(f.measured)) return f.status + (Double.isNaN(f.published) ? "" : " (paper " + String.format(Locale.ROOT, fmt, f.published) + ")");
        String s = String.format(Locale.ROOT, fmt, f.measured);
        if (!Double.isNaN(f.published))
            s += String.format(Locale.ROOT, " (paper " + fmt + ", %+.2f)", f.published, f.difference());
        if (!f.status.isEmpty()) s += " [" + shortStatus(f.status) + "]";
        return s;
    }

    /** The part of a status before its reason ("partial", "not for publication"); the reason goes to the notes. */
    private static String shortStatus(String status) {
        int colon = status.indexOf(':');
        return colon < 0 ? status : status.substring(0, colon);
    }

    String csv(String table) {
        StringBuilder b = new StringBuilder("table,metric,model,method,ratio,removed_blocks,measured,published,difference,status\n");
        for (Figure f : figures) {
            if (!f.table.equals(table)) continue;
            b.append(String.join(",", f.table, quote(f.metric), quote(f.model), quote(f.method), num(f.ratio),
                    quote(f.removed == null ? "" : f.removed.toString()), num(f.measured), num(f.published), num(f.difference()), quote(f.status))).append('\n');
        }
        return b.toString();
    }

    Map<String, Object> json(String table) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("table", table);
        doc.put("settings", plan.settings.toMap());
        doc.put("deviations_from_paper", plan.settings.deviations());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Figure f : figures) {
            if (!f.table.equals(table)) continue;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("metric", f.metric);
            r.put("model", f.model);
            r.put("paper_model", paperName(f.model));
            r.put("method", f.method);
            r.put("ratio", f.ratio);
            r.put("removed_blocks", f.removed);
            r.put("measured", Double.isNaN(f.measured) ? null : f.measured);
            r.put("published", Double.isNaN(f.published) ? null : f.published);
            r.put("difference", Double.isNaN(f.difference()) ? null : f.difference());
            r.put("status", f.status);
            rows.add(r);
        }
        doc.put("figures", rows);
        return doc;
    }

    private String paperName(String label) {
        for (ModelEntry m : plan.models) if (m.label().equals(label)) return m.paper() == null ? null : m.paper().name();
        return null;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

}
