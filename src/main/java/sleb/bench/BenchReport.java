package sleb.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.bench.BenchRunner.Mode;
import sleb.bench.BenchRunner.Protocol;
import sleb.bench.BenchRunner.Variant;
import sleb.backend.Backend;
import sleb.model.DType;
import sleb.model.ModelConfig;
import sleb.util.AtomicFiles;
import sleb.util.Format;
import sleb.util.Json;
import sleb.util.UsageException;

/**
 * What `sleb bench` reports once the variants are timed: the table on stdout (time per iteration with its 95%
 * interval, tokens/s, achieved GFLOP/s and roofline share from {@link CostModel} and the backend's peaks), the
 * speedup with {@link SpeedupCheck}'s verdict, the JSON results file, the PNG chart and a row of
 * docs/benchmarks.md under the heading of the backend it ran on. The command calls {@link #ranOn} before the
 * timing; after it {@link #timed}, sets the public fields and calls {@link #write}.
 */
public final class BenchReport {
    private ModelConfig cfg;
    private Protocol proto;
    private int iters, warmup;
    private List<Variant> variants;
    private List<Integer> removed;
    /** The stored dtype of the weights (bytes per weight for the cost model). */
    public DType weights;
    /** The peaks the roofline divides by, GFLOP/s and GB/s, and where they came from ("probe/given"): see {@link #ranOn}. */
    private double peakGflops, peakGbs;
    private String peaksFrom;
    /** The backend as it describes itself, and its kind ("cpu", "cuda"): the heading its markdown rows go under. */
    private String backend, backendKind;
    /** The model as given (path or synthetic shape with dtype and seed), and its short name for titles. */
    public String source, shape;
    /** The command line as typed, for the JSON and markdown. */
    public String command;
    public double loadAtStart = Double.NaN;
    public int threads;
    /** Where to write; each may be null. */
    public Path out, chart, md;

    /**
     * The backend the variants run on, and the roofline's peaks: each one given (--peak-gflops, --peak-gbs; null
     * if not), else the backend's probe, which runs here; refused when the backend has no probe and none is given.
     */
    public void ranOn(Backend be, Double givenGflops, Double givenGbs) {
        backend = be.describe();
        backendKind = be.kind();
        peaksFrom = (givenGflops != null ? "given" : "probe") + "/" + (givenGbs != null ? "given" : "probe");
        peakGflops = givenGflops != null ? givenGflops : be.peakGflops();
        peakGbs = givenGbs != null ? givenGbs : be.peakGbs();
        if (Double.isNaN(peakGflops) || Double.isNaN(peakGbs))
            throw new UsageException("the " + backendKind + " backend has no built-in peak probe; give its datasheet peaks as --peak-gflops F and --peak-gbs B");
        System.err.printf("peaks: %.1f GFLOP/s fp32 FMA, %.1f GB/s streaming read (%s)%n", peakGflops, peakGbs, peaksFrom);
    }

    /** What was timed: the model's config, the protocol with its iteration counts, the variants (dense first, timed) and the blocks removed (ascending). */
    public void timed(ModelConfig cfg, Protocol proto, int iters, int warmup, List<Variant> variants, List<Integer> removed) {
        this.cfg = cfg;
        this.proto = proto;
        this.iters = iters;
        this.warmup = warmup;
        this.variants = variants;
        this.removed = removed;
    }

    /** Prints the table, then writes the JSON, the chart and the markdown row where asked for. */
    public void write() throws IOException {
        Protocol p = proto;
        List<Integer> rem = removed;
        int wb = weights.bytes;
        String dtypeName = dtypeName();
        double gf = peakGflops, gb = peakGbs;
        String peakSrc = peaksFrom;
        long tokens = proto.tokens();
        List<Map<String, Object>> rows = new ArrayList<>();
        double[] tps = new double[variants.size()], lo = new double[variants.size()], hi = new double[variants.size()];
        List<String> labels = new ArrayList<>();
        System.out.println(proto.describe());
        System.out.printf("%-8s %6s %10s %10s %10s %21s %11s %12s %9s%n", "variant", "blocks", "ms min", "ms median", "ms max",
                "ms mean [95% CI]", "tokens/s", "GFLOP/s", "roofline");
        for (int i = 0; i < variants.size(); i++) {
            Variant v = variants.get(i);
            Stats s = Stats.of(Variant.arr(v.seconds));
            List<CostModel.Pass> passes = p.mode == Mode.PROMPT
                    ? CostModel.prompt(cfg, v.blocks.length, p.batch, p.promptLen, wb)
                    : CostModel.generate(cfg, v.blocks.length, p.batch, p.promptLen, p.genLen, wb);
            double flops = CostModel.flops(passes), bytes = CostModel.bytes(passes);
            double roof = CostModel.rooflineSeconds(passes, gf, gb);
            double t = tokens / s.median;
            tps[i] = t;
            lo[i] = Double.isNaN(s.ciHigh) ? 0 : t - tokens / s.ciHigh;
            hi[i] = Double.isNaN(s.ciLow) || s.ciLow <= 0 ? 0 : tokens / s.ciLow - t;
            String label = v.label + " (" + v.blocks.length + ")";
            labels.add(label);
            System.out.printf("%-8s %6d %10.1f %10.1f %10.1f %8.1f [%5s, %5s] %11.1f %12.1f %8.1f%%%n", v.label, v.blocks.length,
                    s.min * 1e3, s.median * 1e3, s.max * 1e3, s.mean * 1e3, Format.orNa("%.1f", s.ciLow * 1e3), Format.orNa("%.1f", s.ciHigh * 1e3),
                    t, flops / s.median / 1e9, 100 * roof / s.median);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("variant", v.label);
            r.put("blocks", v.blocks);
            r.put("ms_per_iteration", statsMap(s, 1e3));
            r.put("tokens_per_second_median", t);
            // the interval of the mean time, as tokens/s; a lower time bound at or below zero leaves the upper end open
            r.put("tokens_per_second_ci95", new double[] {tokens / s.ciHigh, s.ciLow > 0 ? tokens / s.ciLow : Double.POSITIVE_INFINITY});
            if (p.mode == Mode.GENERATE) {
                Stats d = Stats.of(Variant.arr(v.decodeSeconds));
                double dt = (double) p.batch * p.genLen / d.median;
                r.put("decode_only_ms_per_iteration", statsMap(d, 1e3));
                r.put("decode_only_tokens_per_second_median", dt);
                System.out.printf("%-8s decode steps alone (prefill excluded): %.1f ms median, %.1f tokens/s%n", v.label, d.median * 1e3, dt);
            }
            r.put("flops_per_token", flops / tokens);
            r.put("bytes_per_token", bytes / tokens);
            r.put("achieved_gflops", flops / s.median / 1e9);
            r.put("achieved_gbs", bytes / s.median / 1e9);
            r.put("roofline_seconds", roof);
            r.put("roofline_share", roof / s.median);
            r.put("samples_seconds", Variant.arr(v.seconds));
            rows.add(r);
        }
        double speedup = variants.size() > 1 ? tps[1] / tps[0] : Double.NaN;
        List<double[]> secs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        int[] blockCounts = new int[variants.size()];
        for (int i = 0; i < variants.size(); i++) {
            secs.add(Variant.arr(variants.get(i).seconds));
            names.add(variants.get(i).label);
            blockCounts[i] = variants.get(i).blocks.length;
        }
        SpeedupCheck check = SpeedupCheck.judge(names, secs, blockCounts);
        double loadAtEnd = BenchDocs.loadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        if (variants.size() > 1)
            System.out.printf("speedup (median tokens/s, pruned / dense): %.3fx with %d of %d blocks removed %s%s%n", speedup, rem.size(), cfg.nLayers, rem,
                    check.suffix(loadAtEnd, cores));
        else if (!check.trustworthy())
            System.out.println("result" + check.suffix(loadAtEnd, cores));
        System.out.printf("peaks: %.1f GFLOP/s, %.1f GB/s (%s); roofline = max(FLOPs/peak, bytes/peak) per forward pass%n", gf, gb, peakSrc);

        String cmd = command;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", cmd);
        doc.put("date", LocalDate.now().toString());
        doc.put("machine", Map.of("cpu", BenchDocs.cpuModel(), "cores", Runtime.getRuntime().availableProcessors(), "load_average_at_start", loadAtStart));
        doc.put("backend", backend);
        doc.put("model", source);
        doc.put("config", cfg.describe());
        doc.put("dtype", dtypeName);
        doc.put("mode", p.mode.name().toLowerCase());
        doc.put("protocol", proto.describe());
        doc.put("batch", p.batch);
        doc.put("prompt_len", p.promptLen);
        if (p.mode == Mode.GENERATE) doc.put("gen_len", p.genLen);
        doc.put("iterations", iters);
        doc.put("warmup", warmup);
        doc.put("removed", rem);
        doc.put("peak_gflops", gf);
        doc.put("peak_gbs", gb);
        doc.put("peaks_from", peakSrc);
        doc.put("results", rows);
        doc.put("speedup", speedup);
        doc.put("check", check.toJson(loadAtEnd, cores));
        if (out != null) AtomicFiles.writeString(out, Json.GSON.toJson(doc) + "\n");
        if (chart != null) {
            String title = String.format("%s, %s: %s", shape, dtypeName,
                    p.mode == Mode.PROMPT ? "prompt " + p.batch + "x" + p.promptLen : "generate b" + p.batch + " p" + p.promptLen + " g" + p.genLen);
            BenchChart.write(chart, title + (variants.size() > 1 ? String.format(" (speedup %.2fx)", speedup) : ""), labels, tps, lo, hi);
        }
        if (md != null) appendMd(rows, tps, speedup, check.trustworthy(), cmd);
    }

    private static Map<String, Object> statsMap(Stats s, double scale) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.n);
        m.put("min", s.min * scale);
        m.put("median", s.median * scale);
        m.put("max", s.max * scale);
        m.put("mean", s.mean * scale);
        m.put("ci95", new double[] {s.ciLow * scale, s.ciHigh * scale});
        return m;
    }

    /** One row under this backend's heading ({@code cpu-prompt}, {@code cuda-generate}, ...) of the markdown file. */
    private void appendMd(List<Map<String, Object>> rows, double[] tps, double speedup, boolean trustworthy, String cmd) throws IOException {
        Protocol p = proto;
        String machine = (backendKind.equals("cpu") ? BenchDocs.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores" : backend)
                + String.format(", load %.1f at start", loadAtStart);
        String protoShort = p.mode == Mode.PROMPT ? String.format("b%d x p%d, %d iters", p.batch, p.promptLen, iters)
                : String.format("b%d, p%d, g%d, %d iters", p.batch, p.promptLen, p.genLen, iters);
        boolean pruned = variants.size() > 1;
        String dense = fmtTps(rows.get(0), tps[0]);
        String prunedCell = pruned ? fmtTps(rows.get(1), tps[1]) : "-";
        String roof = String.format("%.1f%%", 100 * (double) rows.get(0).get("roofline_share"))
                + (pruned ? String.format(" / %.1f%%", 100 * (double) rows.get(1).get("roofline_share")) : "");
        String peaks = String.format("%.0f GFLOP/s, %.1f GB/s (%s)", peakGflops, peakGbs, peaksFrom);
        String threadsCell = String.valueOf(threads);
        String common = String.format("| %s | %s | %s | %s | %s %s | %s | %s | %s | %s | %s | %s",
                LocalDate.now(), machine, threadsCell, protoShort, shape, dtypeName(), dense, prunedCell,
                pruned ? removed.size() + "/" + cfg.nLayers : "-", pruned ? String.format("%.2fx", speedup) + (trustworthy ? "" : " (not for publication, see JSON)") : "-", roof, peaks);
        if (p.mode == Mode.PROMPT) {
            BenchDocs.appendRow(md, backendKind + "-prompt",
                    "| date | machine | threads | protocol | shape | dense tok/s (95% CI) | pruned tok/s (95% CI) | removed | speedup | roofline share dense / pruned | peaks | command |\n"
                            + "|---|---|---|---|---|---|---|---|---|---|---|---|",
                    common + " | `" + cmd + "` |");
        } else {
            String dec = String.format("%.1f", (double) rows.get(0).get("decode_only_tokens_per_second_median"))
                    + (pruned ? String.format(" / %.1f", (double) rows.get(1).get("decode_only_tokens_per_second_median")) : "");
            BenchDocs.appendRow(md, backendKind + "-generate",
                    "| date | machine | threads | protocol | shape | dense tok/s (95% CI) | pruned tok/s (95% CI) | removed | speedup | roofline share dense / pruned | peaks | decode-only tok/s dense / pruned | command |\n"
                            + "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
                    common + " | " + dec + " | `" + cmd + "` |");
        }
    }

    private static String fmtTps(Map<String, Object> row, double median) {
        double[] ci = (double[]) row.get("tokens_per_second_ci95");
        if (Double.isNaN(ci[0])) return String.format("%.1f", median);
        return String.format("%.1f (%.1f-%s)", median, ci[0], Double.isInfinite(ci[1]) ? "inf" : String.format("%.1f", ci[1]));
    }

    private String dtypeName() { return weights.name().toLowerCase(); }
}
