package sleb.cli;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sleb.backend.Backend;
import sleb.backend.Backends;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.backend.cpu.Parallel;
import sleb.bench.BenchChart;
import sleb.bench.BenchDocs;
import sleb.bench.BenchRunner;
import sleb.bench.BenchRunner.Mode;
import sleb.bench.BenchRunner.Protocol;
import sleb.bench.BenchRunner.Variant;
import sleb.bench.CostModel;
import sleb.bench.PeakProbe;
import sleb.bench.Shapes;
import sleb.bench.SpeedupCheck;
import sleb.bench.Stats;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.ModelLoader;
import sleb.util.AtomicFiles;
import sleb.util.Format;
import sleb.util.Json;
import sleb.util.UsageException;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Speed of the dense and the pruned model, measured in one process with alternating iterations.",
                "Protocols (SLEB paper): prompt = batch 1 x 2048 tokens, 50 iterations, logits of the last position only;",
                "generate = batch 64, prompt 64, 128 new tokens with a KV cache, 10 iterations."})
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "M", description = "Hugging Face model directory or llama2.c .bin checkpoint")
    Path model;

    @Option(names = "--synthetic", paramLabel = "SHAPE",
            description = "random weights in a named shape (llama2-7b, llama2-13b, llama2-70b, llama3-8b, mistral-7b, tinyllama-1.1b, stories110m) or of a config.json")
    String synthetic;

    @Option(names = "--layers", paramLabel = "N", description = "synthetic only: build N blocks instead of the shape's count")
    Integer layers;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "blocks to remove in the pruned variant, e.g. 8,9,10")
    List<Integer> remove;

    @Option(names = "--remove-last-ratio", paramLabel = "R", description = "remove the last ceil(R x blocks) blocks before the final block (R as written: 0.2 of 12 is 3)")
    Double removeRatio;

    /** The old spelling of --remove-last-ratio, refused so that nobody reads it as prune's SLEB-chosen --remove-ratio. */
    @Option(names = "--remove-ratio", hidden = true, paramLabel = "R")
    String oldRemoveRatio;

    @Option(names = "--mode", required = true, paramLabel = "prompt|generate", description = "which protocol to time")
    String mode;

    @Option(names = "--batch", paramLabel = "B", description = "sequences per iteration (default: prompt 1, generate 64)")
    Integer batch;

    @Option(names = "--prompt-len", paramLabel = "P", description = "prompt tokens per sequence (default: prompt 2048, generate 64)")
    Integer promptLen;

    @Option(names = "--gen-len", paramLabel = "G", description = "generate: new tokens per sequence (default: 128)")
    Integer genLen;

    @Option(names = "--iters", paramLabel = "K", description = "timed iterations per variant (default: prompt 50, generate 10)")
    Integer iters;

    @Option(names = "--warmup", paramLabel = "W", description = "untimed iterations per variant first (default: prompt 2, generate 1)")
    Integer warmup;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "cpu, cuda, cuda:N, cuda:0,1 (blocks split over GPUs) or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", paramLabel = "T", description = "CPU threads (default: all cores)")
    Integer threads;

    @Option(names = "--dtype", paramLabel = "f32|bf16", description = "synthetic only: weight dtype (default: f32)")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the synthetic weights and of the input tokens (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--peak-gflops", paramLabel = "F", description = "the machine's peak GFLOP/s (default: measured by a built-in probe)")
    Double peakGflops;

    @Option(names = "--peak-gbs", paramLabel = "B", description = "the machine's peak memory GB/s (default: measured by a built-in probe)")
    Double peakGbs;

    @Option(names = "--out", paramLabel = "FILE", description = "write the results as JSON (and a PNG chart beside it unless --chart says where)")
    Path out;

    @Option(names = "--chart", paramLabel = "FILE", description = "write a PNG bar chart of tokens/s")
    Path chart;

    @Option(names = "--md", paramLabel = "FILE", description = "append a row to this markdown file (docs/benchmarks.md)")
    Path md;

    @Option(names = "--quiet", description = "no line per timed iteration")
    boolean quiet;

    /** The flags, checked and with the protocol's defaults filled in. */
    static final class Plan {
        Mode mode;
        int batch, promptLen, genLen, iters, warmup;
        DType dtype;
    }

    Plan plan() {
        if ((model == null) == (synthetic == null)) throw new UsageException("give exactly one of --model M or --synthetic SHAPE");
        NumberChecks.atLeast("--layers", layers, 1);
        if (model != null && layers != null) throw new UsageException("--layers applies to --synthetic only");
        if (model != null && dtype != null) throw new UsageException("--dtype applies to --synthetic only; a --model runs in its stored dtype");
        if (oldRemoveRatio != null)
            throw new UsageException("bench --remove-ratio R is now --remove-last-ratio R (it removes the last blocks, not the ones SLEB chooses; for those pass prune's removal order as --remove LIST)");
        if (remove != null && removeRatio != null) throw new UsageException("give --remove LIST or --remove-last-ratio R, not both");
        Plan p = new Plan();
        switch (mode.toLowerCase()) {
            case "prompt": p.mode = Mode.PROMPT; break;
            case "generate": p.mode = Mode.GENERATE; break;
            default: throw new UsageException("--mode " + mode + " is not one of prompt, generate");
        }
        boolean pr = p.mode == Mode.PROMPT;
        if (pr && genLen != null) throw new UsageException("--gen-len applies to --mode generate only");
        p.batch = positive("--batch", batch, pr ? 1 : 64);
        p.promptLen = positive("--prompt-len", promptLen, pr ? 2048 : 64);
        p.genLen = pr ? 0 : positive("--gen-len", genLen, 128);
        p.iters = positive("--iters", iters, pr ? 50 : 10);
        p.warmup = warmup == null ? (pr ? 2 : 1) : NumberChecks.atLeast("--warmup", warmup, 0);
        p.dtype = Shapes.parseDtype(dtype == null ? "f32" : dtype);
        NumberChecks.atLeast("--threads", threads, 1);
        NumberChecks.positive("--peak-gflops", peakGflops);
        NumberChecks.positive("--peak-gbs", peakGbs);
        if (removeRatio != null) Blocks.countFromRatio("--remove-last-ratio", removeRatio, 1);
        return p;
    }

    private static int positive(String flag, Integer v, int def) {
        return v == null ? def : NumberChecks.atLeast(flag, v, 1);
    }

    /** The blocks the pruned variant removes; empty when neither --remove nor --remove-last-ratio was given. */
    static List<Integer> removed(int nLayers, List<Integer> remove, Double ratio) {
        if (remove != null) {
            Blocks.keep(nLayers, remove); // validates
            List<Integer> r = new ArrayList<>(remove);
            r.sort(null);
            return r;
        }
        if (ratio == null) return List.of();
        int k = Blocks.countFromRatio("--remove-last-ratio", ratio, nLayers);
        if (k >= nLayers) throw new UsageException("--remove-last-ratio " + ratio + " would remove " + k + " of " + nLayers + " blocks; keep at least one");
        List<Integer> r = new ArrayList<>();
        for (int i = nLayers - 1 - k; i < nLayers - 1; i++) r.add(i); // the last k before the final block
        return r;
    }

    private double loadAtStart = Double.NaN;

    @Override
    public Integer call() throws Exception {
        Plan p = plan();
        new Preflight().inputPath("--model", model).outputFile("--out", out).outputFile("--chart", chartPath()).appendFile("--md", md).check();
        loadAtStart = BenchDocs.loadAverage();
        Backend be = openBackend();
        try {
            ModelConfig cfg = synthetic != null ? Shapes.config(synthetic, layers) : null;
            Model m;
            String source;
            if (cfg != null) {
                m = Shapes.create(cfg, p.dtype, seed, 2, workBytes(cfg, p));
                source = "synthetic " + synthetic + (layers != null ? " (" + layers + " blocks)" : "") + ", " + p.dtype.name().toLowerCase() + ", seed " + seed;
            } else {
                m = ModelLoader.load(model);
                cfg = m.config();
                Shapes.checkHeap(m.weightBytes() + workBytes(cfg, p), "this model with this protocol");
                source = model.toString();
            }
            int weightBytes = weightDtype(m).bytes;
            String dtypeName = weightDtype(m).name().toLowerCase();
            List<Integer> rem = removed(cfg.nLayers, remove, removeRatio);
            List<Variant> variants = new ArrayList<>();
            variants.add(new Variant("dense", Blocks.all(cfg.nLayers)));
            if (!rem.isEmpty()) variants.add(new Variant("pruned", Blocks.keep(cfg.nLayers, rem)));
            Protocol proto = new Protocol(p.mode, p.batch, p.promptLen, p.genLen);
            System.err.println("model: " + source + ": " + cfg.describe());
            System.err.println("backend: " + be.describe());
            if (p.promptLen + p.genLen > cfg.maxSeqLen)
                System.err.println("note: " + (p.promptLen + p.genLen) + " positions is more than the model's max_position_embeddings " + cfg.maxSeqLen + "; timed anyway");
            double gf, gb;
            String peakSrc;
            try (Parallel par = new Parallel(threadCount())) {
                gf = peakGflops != null ? peakGflops : PeakProbe.gflops(par);
                gb = peakGbs != null ? peakGbs : PeakProbe.gbs(par);
            }
            peakSrc = (peakGflops != null ? "given" : "probe") + "/" + (peakGbs != null ? "given" : "probe");
            System.err.printf("peaks: %.1f GFLOP/s fp32 FMA, %.1f GB/s streaming read (%s)%n", gf, gb, peakSrc);
            System.err.println(proto.describe() + "; " + p.iters + " timed iterations per variant after " + p.warmup + " warm-up, variants alternating");
            try (LoadedModel lm = be.load(m)) {
                m = null; // a synthetic model's staging tensors can go once the backend holds its copy
                BenchRunner.run(lm, proto, variants, p.warmup, p.iters, seed, quiet ? line -> { } : System.err::println);
            }
            report(cfg, p, proto, variants, rem, weightBytes, dtypeName, gf, gb, peakSrc, be.describe(), source);
        } finally {
            be.close();
        }
        return 0;
    }

    private static DType weightDtype(Model m) {
        return m.tensor(Model.layer(0, "self_attn.q_proj.weight")).dtype();
    }

    private int threadCount() { return threads != null ? threads : Integer.getInteger("sleb.threads", Runtime.getRuntime().availableProcessors()); }

    private Backend openBackend() {
        String d = device == null ? "auto" : device.trim().toLowerCase();
        if (d.equals("cpu") || d.equals("auto")) return new CpuBackend(threadCount());
        if (threads != null) throw new UsageException("--threads applies to --device cpu only");
        return Backends.open(device);
    }

    /** Heap for activations and KV caches beyond the weights (a generous estimate). */
    static long workBytes(ModelConfig c, Plan p) {
        long rows = (long) p.batch * p.promptLen;
        long perRow = 3L * c.dim + 2L * c.qDim() + 4L * c.kvDim() + 2L * c.hiddenDim;
        long act = rows * perRow * 4 + (long) p.batch * c.vocabSize * 4 * 2;
        long kv = p.mode == Mode.GENERATE ? 2L * c.nLayers * p.batch * (p.promptLen + p.genLen) * c.kvDim() * 4 * 2 : 0;
        return act + kv;
    }

    private void report(ModelConfig cfg, Plan p, Protocol proto, List<Variant> variants, List<Integer> rem, int wb, String dtypeName,
                        double gf, double gb, String peakSrc, String backend, String source) throws Exception {
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

        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        if (!args.isEmpty() && args.get(0).equals("bench")) args.remove(0);
        String cmd = "sleb bench " + String.join(" ", args);
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
        doc.put("iterations", p.iters);
        doc.put("warmup", p.warmup);
        doc.put("removed", rem);
        doc.put("peak_gflops", gf);
        doc.put("peak_gbs", gb);
        doc.put("peaks_from", peakSrc);
        doc.put("results", rows);
        doc.put("speedup", speedup);
        doc.put("check", check.toJson(loadAtEnd, cores));
        if (out != null) AtomicFiles.writeString(out, Json.GSON.toJson(doc) + "\n");
        Path png = chartPath();
        if (png != null) {
            String title = String.format("%s, %s: %s", synthetic != null ? synthetic : model.getFileName(), dtypeName,
                    p.mode == Mode.PROMPT ? "prompt " + p.batch + "x" + p.promptLen : "generate b" + p.batch + " p" + p.promptLen + " g" + p.genLen);
            BenchChart.write(png, title + (variants.size() > 1 ? String.format(" (speedup %.2fx)", speedup) : ""), labels, tps, lo, hi);
        }
        if (md != null) appendMd(cfg, p, variants, rows, tps, speedup, check.trustworthy(), rem, gf, gb, peakSrc, dtypeName, cmd);
    }

    /** --chart, or a PNG beside --out, or null. */
    private Path chartPath() { return chart != null ? chart : out != null ? pngBeside(out) : null; }

    private static Path pngBeside(Path json) {
        String n = json.getFileName().toString();
        String base = n.endsWith(".json") ? n.substring(0, n.length() - 5) : n;
        return json.resolveSibling(base + ".png");
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

    private void appendMd(ModelConfig cfg, Plan p, List<Variant> variants, List<Map<String, Object>> rows, double[] tps, double speedup,
                          boolean trustworthy, List<Integer> rem, double gf, double gb, String peakSrc, String dtypeName, String cmd) throws Exception {
        String shape = synthetic != null ? synthetic : model.getFileName().toString();
        String machine = BenchDocs.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores"
                + String.format(", load %.1f at start", loadAtStart);
        String protoShort = p.mode == Mode.PROMPT ? String.format("b%d x p%d, %d iters", p.batch, p.promptLen, p.iters)
                : String.format("b%d, p%d, g%d, %d iters", p.batch, p.promptLen, p.genLen, p.iters);
        boolean pruned = variants.size() > 1;
        String dense = fmtTps(rows.get(0), tps[0]);
        String prunedCell = pruned ? fmtTps(rows.get(1), tps[1]) : "-";
        String roof = String.format("%.1f%%", 100 * (double) rows.get(0).get("roofline_share"))
                + (pruned ? String.format(" / %.1f%%", 100 * (double) rows.get(1).get("roofline_share")) : "");
        String peaks = String.format("%.0f GFLOP/s, %.1f GB/s (%s)", gf, gb, peakSrc);
        String threadsCell = String.valueOf(threadCount());
        String common = String.format("| %s | %s | %s | %s | %s %s | %s | %s | %s | %s | %s | %s",
                LocalDate.now(), machine, threadsCell, protoShort, shape, dtypeName, dense, prunedCell,
                pruned ? rem.size() + "/" + cfg.nLayers : "-", pruned ? String.format("%.2fx", speedup) + (trustworthy ? "" : " (not for publication, see JSON)") : "-", roof, peaks);
        if (p.mode == Mode.PROMPT) {
            BenchDocs.appendRow(md, "cpu-prompt",
                    "| date | machine | threads | protocol | shape | dense tok/s (95% CI) | pruned tok/s (95% CI) | removed | speedup | roofline share dense / pruned | peaks | command |\n"
                            + "|---|---|---|---|---|---|---|---|---|---|---|---|",
                    common + " | `" + cmd + "` |");
        } else {
            String dec = String.format("%.1f", (double) rows.get(0).get("decode_only_tokens_per_second_median"))
                    + (pruned ? String.format(" / %.1f", (double) rows.get(1).get("decode_only_tokens_per_second_median")) : "");
            BenchDocs.appendRow(md, "cpu-generate",
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
}
