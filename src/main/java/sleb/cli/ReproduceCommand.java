package sleb.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.backend.Backends;
import sleb.backend.LoadedModel;
import sleb.model.BlockSelection;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.ModelLoader;
import sleb.prune.PruneState;
import sleb.reproduce.Cell;
import sleb.reproduce.CellStatus;
import sleb.reproduce.CostEstimate;
import sleb.reproduce.ModelEntry;
import sleb.reproduce.PaperValues;
import sleb.reproduce.ReproducePlan;
import sleb.reproduce.ReproduceSettings;
import sleb.reproduce.ReproduceState;
import sleb.reproduce.Tables;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.util.UsageException;
import sleb.zeroshot.ZeroShot;

@Command(name = "reproduce", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The SLEB paper's Tables 1 and 2 for your checkpoints, in one resumable command: SLEB selection at each ratio,",
                "then dense and pruned WikiText-2/C4 perplexity, zero-shot accuracy (PIQA, WinoGrande, HellaSwag, ARC-e, ARC-c)",
                "and both latency protocols, with the published values beside the measured ones. Rerun the same command to continue."})
public final class ReproduceCommand implements Callable<Integer> {
    @Option(names = "--models", required = true, split = ",", paramLabel = "M1,M2", description = "Hugging Face model directories or llama2.c .bin checkpoints")
    List<Path> models;

    @Option(names = "--tokenizer", paramLabel = "T", description = "tokenizer for every model (given once) or for each model in --models order (given once per model); default: the one beside each model")
    List<Path> tokenizers = new ArrayList<>();

    @Option(names = "--calib", required = true, paramLabel = "PATH", description = "calibration text: WikiText-2 train, as the paper (a text file, or .jsonl/.jsonl.gz with \"text\" fields)")
    Path calib;

    @Option(names = "--wikitext2", paramLabel = "PATH", description = "WikiText-2 test text for perplexity (default: ../shared/data/wikitext-2-raw/wiki.test.raw beside the installation, if there)")
    Path wikitext2;

    @Option(names = "--c4", paramLabel = "PATH", description = "C4 validation shard (.json.gz/.jsonl) for perplexity; without it the C4 cells say \"no data\"")
    Path c4;

    @Option(names = "--zeroshot-dir", paramLabel = "DIR", description = "zero-shot task files, laid out as for `sleb zeroshot` (default: ../shared/data/zeroshot beside the installation, if there)")
    Path zeroshotDir;

    @Option(names = "--ratios", split = ",", paramLabel = "R1,R2", description = "removal ratios; ceil(R x blocks) blocks each (default: 0.1,0.2, the paper's)")
    List<Double> ratios;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory: tables, the cells' results files, reproduce.json (rerun with the same DIR to continue)")
    Path out;

    @Option(names = "--seqlen", defaultValue = "2048", description = "calibration and perplexity window (default: ${DEFAULT-VALUE}, the paper's)")
    int seqlen;

    @Option(names = "--nsamples", defaultValue = "128", description = "calibration windows (default: ${DEFAULT-VALUE}, the paper's)")
    int nsamples;

    @Option(names = "--seed", defaultValue = "0", description = "calibration sampling seed (default: ${DEFAULT-VALUE}, the official code's)")
    long seed;

    @Option(names = "--early-barrier", defaultValue = "1", description = "(default: ${DEFAULT-VALUE}, the paper's)")
    int early;

    @Option(names = "--latter-barrier", defaultValue = "1", description = "(default: ${DEFAULT-VALUE}, the paper's)")
    int latter;

    @Option(names = "--eval-max-windows", paramLabel = "K", description = "quick runs: perplexity on the first K windows of each dataset (default: all)")
    Integer evalMaxWindows;

    @Option(names = "--zeroshot-limit", paramLabel = "N", description = "quick runs: first N questions of each task (default: all)")
    Integer zeroshotLimit;

    @Option(names = "--bench-iters", paramLabel = "K", description = "quick runs: timed iterations per latency protocol (default: the paper's, prompt 50 and generation 10)")
    Integer benchIters;

    @Option(names = "--bench", negatable = true, defaultValue = "true", fallbackValue = "true", description = "measure the two latency protocols (default: on; --no-bench skips them)")
    boolean bench;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "cpu, cuda, cuda:N, cuda:0,1 or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--plan-only", description = "print the plan and the time estimate, run nothing")
    boolean planOnly;

    @Option(names = "--quiet", description = "no progress bars inside the cells")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        ReproduceSettings s = settings();
        List<ModelEntry> entries = modelEntries(s);
        ReproducePlan plan = new ReproducePlan(s, entries, out);
        ReproduceState state = ReproduceState.open(out, s.toMap());
        List<Cell> todo = new ArrayList<>();
        for (Cell c : plan.cells) if (CellStatus.of(c) != CellStatus.DONE) todo.add(c);
        if (!todo.isEmpty() && !state.probed()) probe(entries.get(todo.get(0).model()), s, state);
        printPlan(plan, state, todo);
        if (planOnly) return 0;
        Files.createDirectories(out);
        state.save(out);
        int i = 0;
        for (Cell c : todo) {
            i++;
            ModelEntry m = entries.get(c.model());
            System.err.printf("%n[%d/%d] %s, %s: %s (est. %s; whole run: %s left)%n", i, todo.size(), m.label(), Cell.method(c.ratio()), c.kind().title,
                    CostEstimate.duration(state.estimateSeconds(c)), CostEstimate.duration(remainingSeconds(state, todo.subList(i - 1, todo.size()))));
            double estimate = state.probeEstimate(c);
            long t0 = System.nanoTime();
            try {
                runCell(plan, m, c);
            } catch (UsageException | IOException | OutOfMemoryError e) {
                throw new UsageException("cell " + c.id(m.label()) + " failed: " + Main.userMessage(e)
                        + "; what finished is saved in " + out + ": fix this and rerun the same `sleb reproduce` to continue");
            }
            state.cellDone(c.id(m.label()), (System.nanoTime() - t0) / 1e9, estimate);
            state.save(out);
            new Tables(plan, out).write();
        }
        new Tables(plan, out).write();
        state.status = "done";
        state.save(out);
        System.out.println("tables: " + out.resolve("table1.md") + ", " + out.resolve("table2.md") + " (and .csv, .json)");
        return 0;
    }

    /** The flags checked and gathered, defaults filled in; every input path checked before any model is read. */
    private ReproduceSettings settings() {
        ReproduceSettings s = new ReproduceSettings();
        s.models = models;
        if (models.isEmpty()) throw new UsageException("--models names no model");
        if (new HashSet<>(absolute(models)).size() != models.size()) throw new UsageException("--models lists a model twice");
        if (tokenizers.size() > 1 && tokenizers.size() != models.size())
            throw new UsageException("--tokenizer given " + tokenizers.size() + " times for " + models.size() + " models; give it once (for all) or once per model");
        for (int m = 0; m < models.size(); m++) s.tokenizers.add(tokenizers.isEmpty() ? null : tokenizers.get(tokenizers.size() == 1 ? 0 : m));
        if (ratios != null) {
            if (ratios.isEmpty()) throw new UsageException("--ratios names no ratio");
            Set<Double> seen = new HashSet<>();
            for (double r : ratios) {
                if (!(r > 0 && r < 1)) throw new UsageException("--ratios " + r + " is not between 0 and 1 (exclusive); e.g. --ratios 0.1,0.2");
                if (!seen.add(r)) throw new UsageException("--ratios lists " + r + " twice");
            }
            s.ratios = new ArrayList<>(ratios);
        }
        s.seqlen = NumberChecks.atLeast("--seqlen", seqlen, 2);
        s.nsamples = NumberChecks.atLeast("--nsamples", nsamples, 1);
        s.seed = seed;
        s.earlyBarrier = NumberChecks.atLeast("--early-barrier", early, 0);
        s.latterBarrier = NumberChecks.atLeast("--latter-barrier", latter, 0);
        s.evalMaxWindows = evalMaxWindows == null ? 0 : NumberChecks.atLeast("--eval-max-windows", evalMaxWindows, 1);
        s.zeroshotLimit = zeroshotLimit == null ? 0 : NumberChecks.atLeast("--zeroshot-limit", zeroshotLimit, 1);
        s.benchIters = benchIters == null ? 0 : NumberChecks.atLeast("--bench-iters", benchIters, 1);
        if (!bench && benchIters != null) throw new UsageException("--bench-iters with --no-bench: nothing would be timed; drop one of them");
        s.bench = bench;
        s.device = device;
        s.calib = calib;
        s.c4 = c4;
        s.wikitext2 = wikitext2 != null ? wikitext2 : existing(Installation.home().resolve("../shared/data/wikitext-2-raw/wiki.test.raw").normalize());
        s.zeroshotDir = zeroshotDir != null ? zeroshotDir : existing(Installation.zeroshotDir());
        Preflight pf = new Preflight().inputFile("--calib", calib).inputFile("--wikitext2", s.wikitext2).inputFile("--c4", c4);
        for (Path m : models) pf.inputPath("--models", m);
        for (Path t : tokenizers) pf.inputPath("--tokenizer", t);
        if (zeroshotDir != null && !Files.isDirectory(zeroshotDir)) throw new UsageException("--zeroshot-dir " + zeroshotDir + " is not a directory");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new UsageException("--out " + out + " exists and is not a directory");
        pf.outputFile("--out", out.resolve(ReproduceState.FILE)).check();
        return s;
    }

    private static Path existing(Path p) { return Files.isRegularFile(p) || Files.isDirectory(p) ? p : null; }

    private static List<Path> absolute(List<Path> ps) {
        List<Path> a = new ArrayList<>();
        for (Path p : ps) a.add(p.toAbsolutePath().normalize());
        return a;
    }

    /** Each model's config, tokenizer and paper match, and the block counts checked against the barriers. */
    private List<ModelEntry> modelEntries(ReproduceSettings s) throws IOException {
        String sample = calibSample(s.calib);
        List<ModelEntry> list = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        for (int i = 0; i < s.models.size(); i++) {
            Path p = s.models.get(i);
            ModelConfig cfg;
            double charsPerToken;
            try (Model model = ModelLoader.load(p)) {
                cfg = model.config();
                Path tp = s.tokenizers.get(i) != null ? s.tokenizers.get(i) : Tokenizers.findBeside(p);
                if (tp == null) throw new UsageException("no tokenizer found beside " + p + "; pass --tokenizer PATH");
                Tokenizer tok = Tokenizers.load(tp, cfg.vocabSize);
                charsPerToken = Math.max(1.0, (double) sample.length() / Math.max(1, tok.encode(sample).length));
            } catch (UsageException | IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e.getMessage(), e);
            }
            int removable = Math.min(cfg.nLayers - 1, Math.max(0, cfg.nLayers - s.earlyBarrier - s.latterBarrier));
            for (double r : s.ratios) {
                int remove = BlockSelection.countFromRatio(r, cfg.nLayers);
                if (remove > removable)
                    throw new UsageException("--ratios " + r + " removes ceil(" + r + " x " + cfg.nLayers + ") = " + remove + " of the " + cfg.nLayers + " blocks of " + p
                            + ", but with barriers " + s.earlyBarrier + "/" + s.latterBarrier + " at most " + removable + " can go; lower the ratio or the barriers");
            }
            String label = ModelEntry.labelOf(p);
            for (int k = 2; !labels.add(label); k++) label = ModelEntry.labelOf(p) + "-" + k;
            PaperValues.PaperModel paper = PaperValues.match(label, cfg.modelType, cfg.nLayers, cfg.dim);
            list.add(new ModelEntry(p, s.tokenizers.get(i), label, cfg, paper, charsPerToken));
        }
        return list;
    }

    /** Up to 20,000 characters of the calibration text, for the characters-per-token of each tokenizer. */
    private static String calibSample(Path calib) throws IOException {
        try (var r = Files.newBufferedReader(calib, StandardCharsets.UTF_8)) {
            char[] buf = new char[20_000];
            int n = r.read(buf);
            return n <= 0 ? "" : new String(buf, 0, n);
        } catch (java.nio.charset.MalformedInputException e) {
            return "x".repeat(4000); // compressed (.jsonl.gz): assume 4 characters per token
        }
    }

    /**
     * Measures the machine for the estimate: the seconds to load the model onto the backend, and the seconds per work
     * unit of a forward of min(seqlen, 256) tokens through every block (the fastest of three).
     */
    private static void probe(ModelEntry e, ReproduceSettings s, ReproduceState state) throws Exception {
        int len = Math.min(s.seqlen, 256);
        int[][] tokens = new int[1][len];
        for (int t = 0; t < len; t++) tokens[0][t] = (t * 7919) % e.config().vocabSize;
        int[] all = BlockSelection.dense(e.config().nLayers).kept();
        long t0 = System.nanoTime();
        try (Model model = ModelLoader.load(e.path()); Backend be = Backends.open(s.device); LoadedModel lm = be.load(model)) {
            state.probe_load_seconds = (System.nanoTime() - t0) / 1e9;
            double sec = Double.POSITIVE_INFINITY;
            for (int run = 0; run < 3; run++) { // the fastest of three: the first runs include the JIT's warm-up
                long t1 = System.nanoTime();
                lm.nll(tokens, all);
                sec = Math.min(sec, (System.nanoTime() - t1) / 1e9);
            }
            state.probe_seconds_per_unit = sec / ((double) len * e.config().nLayers * e.config().blockParams());
        }
    }

    private static double remainingSeconds(ReproduceState state, List<Cell> cells) {
        double t = 0;
        for (Cell c : cells) t += state.estimateSeconds(c);
        return t;
    }

    private void printPlan(ReproducePlan plan, ReproduceState state, List<Cell> todo) {
        ReproduceSettings s = plan.settings;
        System.err.println("sleb reproduce: the SLEB paper's Tables 1 and 2 into " + out);
        for (ModelEntry m : plan.models) {
            StringBuilder counts = new StringBuilder();
            for (double r : s.ratios) counts.append(counts.length() == 0 ? "" : ", ").append(Cell.method(r)).append(" = ")
                    .append(BlockSelection.countFromRatio(r, m.config().nLayers)).append(" blocks");
            System.err.printf("  model %s: %d blocks, %s; %s; %s%n", m.label(), m.config().nLayers, m.config().modelType,
                    m.paper() == null ? "not in the paper (no published column)" : "the paper's " + m.paper().name(), counts);
        }
        System.err.println("  perplexity: " + describeData(plan));
        List<String> names = new ArrayList<>();
        for (ZeroShot.TaskData d : plan.tasks) names.add(d.task().id + " (" + d.items().size() + ")");
        List<String> missing = new ArrayList<>(ReproduceSettings.PAPER_TASKS);
        for (ZeroShot.TaskData d : plan.tasks) missing.remove(d.task().id);
        System.err.println("  zero-shot: " + (names.isEmpty() ? "no task files" : String.join(", ", names)) + (missing.isEmpty() ? "" : "; no data: " + String.join(", ", missing)));
        System.err.println("  latency: " + (s.bench ? "prompt 1x2048 and generation 64x(64+128), dense against pruned, on " + s.device : "skipped (--no-bench)"));
        if (!s.deviations().isEmpty()) System.err.println("  differs from the paper: " + String.join("; ", s.deviations()));
        System.err.printf(Locale.ROOT, "  cells: %d, %d done, %d to run; estimated time %s (%s)%n", plan.cells.size(), plan.cells.size() - todo.size(), todo.size(),
                CostEstimate.duration(remainingSeconds(state, todo)), state.cells.isEmpty() ? "from a probe load and forward on this machine"
                        : "from a probe forward, corrected by the cells timed so far");
    }

    private static String describeData(ReproducePlan plan) {
        List<String> have = new ArrayList<>();
        for (var e : plan.evalData.entrySet()) have.add(e.getKey() + " " + e.getValue());
        List<String> none = new ArrayList<>();
        if (!plan.evalData.containsKey("wikitext2")) none.add("wikitext2");
        if (!plan.evalData.containsKey("c4")) none.add("c4 (give --c4)");
        return (have.isEmpty() ? "no datasets" : String.join(", ", have)) + (none.isEmpty() ? "" : "; no data: " + String.join(", ", none));
    }

    /** Runs one cell as the matching sleb command would run from the command line, continuing its results file if begun. */
    private void runCell(ReproducePlan plan, ModelEntry m, Cell c) throws Exception {
        ReproduceSettings s = plan.settings;
        boolean begun = CellStatus.of(c) == CellStatus.PARTIAL;
        Files.createDirectories(c.out().getParent());
        List<String> a = new ArrayList<>();
        List<Integer> removed = c.ratio() == 0 || c.kind() == Cell.Kind.PRUNE ? List.of()
                : PruneState.read(c.out().resolveSibling(Cell.Kind.PRUNE.fileName())).removal_order;
        String removeList = removed.stream().map(String::valueOf).reduce((x, y) -> x + "," + y).orElse("");
        Callable<Integer> cmd;
        switch (c.kind()) {
            case PRUNE -> {
                cmd = new PruneCommand();
                model(a, m, s);
                a.addAll(List.of("--calib", s.calib.toString(), "--seqlen", "" + s.seqlen, "--nsamples", "" + s.nsamples, "--seed", "" + s.seed,
                        "--remove-ratio", "" + c.ratio(), "--early-barrier", "" + s.earlyBarrier, "--latter-barrier", "" + s.latterBarrier));
            }
            case EVAL -> {
                cmd = new EvalCommand();
                model(a, m, s);
                for (var e : plan.evalData.entrySet()) a.addAll(List.of("--data", e.getKey() + "=" + e.getValue()));
                a.addAll(List.of("--seqlen", "" + s.seqlen));
                if (s.evalMaxWindows > 0) a.addAll(List.of("--max-windows", "" + s.evalMaxWindows));
            }
            case ZEROSHOT -> {
                cmd = new ZeroShotCommand();
                model(a, m, s);
                List<String> ids = new ArrayList<>();
                for (ZeroShot.TaskData d : plan.tasks) ids.add(d.task().id);
                a.addAll(List.of("--tasks", String.join(",", ids), "--data-dir", s.zeroshotDir.toString()));
                if (s.zeroshotLimit > 0) a.addAll(List.of("--limit", "" + s.zeroshotLimit));
            }
            default -> {
                cmd = new BenchCommand();
                a.addAll(List.of("--model", m.path().toString(), "--device", s.device, "--mode", c.kind() == Cell.Kind.BENCH_PROMPT ? "prompt" : "generate"));
                if (s.benchIters > 0) a.addAll(List.of("--iters", "" + s.benchIters));
            }
        }
        if (!removeList.isEmpty()) a.addAll(List.of("--remove", removeList));
        a.addAll(List.of("--out", c.out().toString()));
        if (begun) a.add("--resume");
        if (quiet || c.kind() == Cell.Kind.BENCH_PROMPT || c.kind() == Cell.Kind.BENCH_GENERATE) a.add("--quiet");
        new picocli.CommandLine(cmd).parseArgs(a.toArray(String[]::new));
        cmd.call();
    }

    private static void model(List<String> a, ModelEntry m, ReproduceSettings s) {
        a.addAll(List.of("--model", m.path().toString(), "--device", s.device));
        if (m.tokenizer() != null) a.addAll(List.of("--tokenizer", m.tokenizer().toString()));
    }
}
