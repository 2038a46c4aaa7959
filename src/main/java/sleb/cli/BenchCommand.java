package sleb.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sleb.backend.Backend;
import sleb.backend.Backends;
import sleb.backend.LoadedModel;
import sleb.bench.BenchDocs;
import sleb.bench.BenchReport;
import sleb.bench.BenchRunner;
import sleb.bench.BenchRunner.Mode;
import sleb.bench.BenchRunner.Protocol;
import sleb.bench.BenchRunner.Variant;
import sleb.bench.Shapes;
import sleb.model.BlockSelection;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.ModelLoader;
import sleb.util.OutputPaths;
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
            description = "random weights in a named shape (llama2-7b, llama2-13b, llama2-70b, llama3-8b, mistral-7b, tinyllama-1.1b, stories110m, opt-6.7b, opt-13b, opt-30b, opt-66b) or of a config.json")
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

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "cpu, cuda, cuda:N, cuda:0,1 (blocks split over GPUs) or auto: CUDA when a GPU is usable, else the CPU (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", paramLabel = "T", description = "CPU threads (default: all cores)")
    Integer threads;

    @Option(names = "--dtype", paramLabel = "f32|bf16", description = "synthetic only: weight dtype (default: f32)")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the synthetic weights and of the input tokens (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--peak-gflops", paramLabel = "F", description = "the device's peak fp32 GFLOP/s (default on the CPU: a built-in probe; required on CUDA)")
    Double peakGflops;

    @Option(names = "--peak-gbs", paramLabel = "B", description = "the device's peak memory GB/s (default on the CPU: a built-in probe; required on CUDA)")
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
        Protocol proto;
        int iters, warmup;
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
        Mode m;
        switch (mode.toLowerCase()) {
            case "prompt": m = Mode.PROMPT; break;
            case "generate": m = Mode.GENERATE; break;
            default: throw new UsageException("--mode " + mode + " is not one of prompt, generate");
        }
        boolean pr = m == Mode.PROMPT;
        if (pr && genLen != null) throw new UsageException("--gen-len applies to --mode generate only");
        p.proto = new Protocol(m, positive("--batch", batch, pr ? 1 : 64), positive("--prompt-len", promptLen, pr ? 2048 : 64),
                pr ? 0 : positive("--gen-len", genLen, 128));
        p.iters = positive("--iters", iters, pr ? 50 : 10);
        p.warmup = warmup == null ? (pr ? 2 : 1) : NumberChecks.atLeast("--warmup", warmup, 0);
        p.dtype = Shapes.parseDtype(dtype == null ? "f32" : dtype);
        NumberChecks.atLeast("--threads", threads, 1);
        NumberChecks.positive("--peak-gflops", peakGflops);
        NumberChecks.positive("--peak-gbs", peakGbs);
        if (removeRatio != null) BlockFlags.countFromRatio("--remove-last-ratio", removeRatio, 1);
        return p;
    }

    private static int positive(String flag, Integer v, int def) {
        return v == null ? def : NumberChecks.atLeast(flag, v, 1);
    }

    /** The blocks the pruned variant removes; none (the dense model alone) when neither --remove nor --remove-last-ratio was given. */
    static BlockSelection selection(int nLayers, List<Integer> remove, Double ratio) {
        if (remove != null) return BlockFlags.removing("--remove", nLayers, remove);
        if (ratio == null) return BlockSelection.dense(nLayers);
        return BlockFlags.lastBeforeFinal("--remove-last-ratio", nLayers, ratio);
    }

    private double loadAtStart = Double.NaN;

    @Override
    public Integer call() throws Exception {
        Plan p = plan();
        new Preflight().inputPath("--model", model).outputFile("--out", out).outputFile("--chart", chartPath()).appendFile("--md", md).check();
        loadAtStart = BenchDocs.loadAverage();
        Backend be = Backends.open(device, threads);
        try {
            Protocol proto = p.proto;
            ModelConfig cfg = synthetic != null ? Shapes.config(synthetic, layers) : null;
            Model m;
            String source;
            if (cfg != null) {
                m = Shapes.create(cfg, p.dtype, seed, 2, BenchRunner.workBytes(cfg, proto));
                source = "synthetic " + synthetic + (layers != null ? " (" + layers + " blocks)" : "") + ", " + p.dtype.name().toLowerCase() + ", seed " + seed;
            } else {
                m = ModelLoader.load(model);
                cfg = m.config();
                Shapes.checkHeap(m.weightBytes() + BenchRunner.workBytes(cfg, proto), "this model with this protocol");
                source = model.toString();
            }
            DType weights = m.qProj(0).dtype();
            BlockSelection sel = selection(cfg.nLayers, remove, removeRatio);
            List<Variant> variants = Variant.denseAndPruned(sel);
            System.err.println("model: " + source + ": " + cfg.describe());
            System.err.println("backend: " + be.describe());
            if (proto.promptLen + proto.genLen > cfg.maxSeqLen && cfg.isOpt())
                throw new UsageException((proto.promptLen + proto.genLen) + " positions is more than this OPT model's max_position_embeddings "
                        + cfg.maxSeqLen + ", and OPT's learned positions end there; lower --prompt-len or --gen-len");
            if (proto.promptLen + proto.genLen > cfg.maxSeqLen)
                System.err.println("note: " + (proto.promptLen + proto.genLen) + " positions is more than the model's max_position_embeddings " + cfg.maxSeqLen + "; timed anyway");
            BenchReport r = new BenchReport();
            r.ranOn(be, peakGflops, peakGbs); // probes the peaks not given, before the model is uploaded
            // the protocol itself heads the results table on stdout; stderr says how it is timed
            System.err.println("timing: " + p.iters + " timed iteration" + (p.iters == 1 ? "" : "s") + " per variant after " + p.warmup + " warm-up, variants alternating");
            try (LoadedModel lm = be.load(m)) {
                m = null; // a synthetic model's staging tensors can go once the backend holds its copy
                BenchRunner.run(lm, proto, variants, p.warmup, p.iters, seed, quiet ? line -> { } : System.err::println);
            }
            r.timed(cfg, proto, p.iters, p.warmup, variants, sel.removedSorted());
            r.weights = weights;
            r.source = source;
            r.shape = synthetic != null ? synthetic : model.getFileName().toString();
            r.command = commandLine();
            r.loadAtStart = loadAtStart;
            r.threads = threadCount();
            r.out = out;
            r.chart = chartPath();
            r.md = md;
            r.write();
        } finally {
            be.close();
        }
        return 0;
    }

    private int threadCount() { return threads != null ? threads : Integer.getInteger("sleb.threads", Runtime.getRuntime().availableProcessors()); }

    /** The command line as typed, for the results: "sleb bench --synthetic ...". */
    private String commandLine() {
        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        if (!args.isEmpty() && args.get(0).equals("bench")) args.remove(0);
        return "sleb bench " + String.join(" ", args);
    }

    /** --chart, or a PNG beside --out, or null. */
    private Path chartPath() { return chart != null ? chart : out != null ? OutputPaths.pngBeside(out) : null; }
}
