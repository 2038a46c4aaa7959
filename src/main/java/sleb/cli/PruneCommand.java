package sleb.cli;

import com.google.gson.JsonElement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.eval.ContextLength;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.prune.BlockSearch;
import sleb.prune.Calibration;
import sleb.prune.Exporter;
import sleb.prune.Fingerprint;
import sleb.prune.PruneChart;
import sleb.prune.PruneState;
import sleb.tokenizer.Tokenizer;
import sleb.util.Json;
import sleb.util.UsageException;

@Command(name = "prune", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Choose transformer blocks to remove with SLEB (or a one-shot baseline), write run.json and a chart, optionally evaluate and export.")
public final class PruneCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--calib", required = true, paramLabel = "PATH", description = "calibration text: a text file, or .jsonl/.jsonl.gz with \"text\" fields")
    Path calib;

    @Option(names = "--calib-sampling", defaultValue = "random", paramLabel = "S",
            description = "random (seeded offsets, as the paper's loader), contiguous (first windows), rows (official sleb.py: shuffled rows joined) (default: ${DEFAULT-VALUE})")
    String sampling;

    @Option(names = "--nsamples", defaultValue = "128", description = "calibration windows (rows for --calib-sampling rows) (default: ${DEFAULT-VALUE})")
    int nsamples;

    @Option(names = "--seqlen", description = "tokens per calibration window (default: min(2048, the model's trained context: max_position_embeddings, or a llama2.c seq_len); longer than that warns")
    Integer seqlen;

    @Option(names = "--seed", defaultValue = "0", description = "seed for random/rows sampling, as Python's random.seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--num-remove-blocks", paramLabel = "N", description = "number of blocks to remove (the official code's num_remove_blocks); or give --remove-ratio")
    Integer numRemoveBlocks;

    @Option(names = "--remove-ratio", paramLabel = "R", description = "fraction of blocks to remove: ceil(R x blocks), R taken as written (0.2 of 32 is 7)")
    Double removeRatio;

    /** The old spelling of --num-remove-blocks, refused: --remove is a list of block indices in every other command. */
    @Option(names = "--remove", hidden = true, paramLabel = "N")
    String oldRemove;

    @Option(names = "--early-barrier", defaultValue = "1", description = "never remove the first K alive blocks (default: ${DEFAULT-VALUE})")
    int early;

    @Option(names = "--latter-barrier", defaultValue = "1", description = "never remove the last K alive blocks (default: ${DEFAULT-VALUE})")
    int latter;

    @Option(names = "--metric", defaultValue = "sleb", description = "sleb (iterative), cosine or oneshot (default: ${DEFAULT-VALUE})")
    String metric;

    @Option(names = "--batch", paramLabel = "B", description = "calibration windows per forward pass (default: enough for ~2048 tokens)")
    Integer batch;

    @Option(names = "--bos", negatable = true, description = "put one BOS token at the start of the calibration stream (default: as the tokenizer's config says; refused for a tokenizer without BOS)")
    Boolean bos;

    @Option(names = "--out", defaultValue = "run.json", paramLabel = "FILE", description = "run file: results and resumable state (default: ${DEFAULT-VALUE}); the chart goes beside it as .png")
    Path out;

    @Option(names = "--resume", description = "continue the run recorded in --out (refused if model, calibration or settings changed)")
    boolean resume;

    @Option(names = "--export", paramLabel = "DIR", description = "write the pruned model to DIR when done")
    Path export;

    @Option(names = "--format", defaultValue = "auto", description = "export format: hf, llama2c, or auto (the source's) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--eval", paramLabel = "NAME=PATH", description = "perplexity before and after pruning on this dataset (NAME wikitext2, ptb, c4 or any)")
    List<String> evals = new ArrayList<>();

    @Option(names = "--eval-seqlen", paramLabel = "L", description = "window length for --eval (default: --seqlen's value)")
    Integer evalSeqlen;

    @Option(names = "--eval-max-windows", paramLabel = "K", description = "evaluate at most K windows per --eval dataset (default: all)")
    Integer evalMaxWindows;

    @Option(names = "--zeroshot", split = ",", paramLabel = "LIST",
            description = "zero-shot accuracy before and after pruning on these tasks (piqa, arc_easy, arc_challenge, winogrande, hellaswag, boolq, openbookqa)")
    List<String> zeroshot = new ArrayList<>();

    @Option(names = "--zeroshot-dir", paramLabel = "DIR",
            description = "directory with the zero-shot task files, laid out as for `sleb zeroshot` (default: ../shared/data/zeroshot beside the installation)")
    Path zeroshotDir;

    @Option(names = "--zeroshot-limit", paramLabel = "N", description = "first N questions of each zero-shot task (default: all)")
    Integer zeroshotLimit;

    @Option(names = "--cache-mib", paramLabel = "N", description = "memory for cached hidden states, MiB (default: a quarter of the max heap on the CPU, half the free memory on a GPU)")
    Long cacheMib;

    @Option(names = "--no-cache", hidden = true, description = "expert: run every candidate from the embeddings, as the official code (for timing)")
    boolean noCache;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        // everything the job needs is checked here, before the weights are loaded and the selection runs
        if (oldRemove != null)
            throw new UsageException("prune --remove N is now --num-remove-blocks N (--remove is a list of block indices in eval, export, zeroshot, generate and bench)");
        if ((numRemoveBlocks == null) == (removeRatio == null))
            throw new UsageException(numRemoveBlocks == null ? "give the number of blocks to remove: --num-remove-blocks N or --remove-ratio R"
                    : "give --num-remove-blocks N or --remove-ratio R, not both");
        BlockSearch.Metric m = BlockSearch.Metric.parse(metric);
        Calibration.Sampling s = Calibration.Sampling.parse(sampling);
        NumberChecks.atLeast("--num-remove-blocks", numRemoveBlocks, 1);
        if (removeRatio != null) Blocks.countFromRatio("--remove-ratio", removeRatio, 1);
        NumberChecks.atLeast("--seqlen", seqlen, 2);
        NumberChecks.atLeast("--nsamples", nsamples, 1);
        NumberChecks.atLeast("--batch", batch, 1);
        NumberChecks.atLeast("--early-barrier", early, 0);
        NumberChecks.atLeast("--latter-barrier", latter, 0);
        NumberChecks.atLeast("--eval-seqlen", evalSeqlen, 2);
        NumberChecks.atLeast("--eval-max-windows", evalMaxWindows, 1);
        NumberChecks.atLeast("--zeroshot-limit", zeroshotLimit, 1);
        NumberChecks.atLeast("--cache-mib", cacheMib, 0L);
        Exporter.checkFormat(format, opts.isLlama2c());
        List<TextDatasets.Spec> specs = new ArrayList<>();
        for (String e : evals) specs.add(TextDatasets.Spec.parse(e));
        Preflight pf = opts.checkInputs(new Preflight()).inputFile("--calib", calib);
        for (TextDatasets.Spec spec : specs) pf.inputFile("--eval " + spec.name, spec.path);
        pf.outputFile("--out", out).outputFile("the chart beside --out", chartPath(out)).outputDir("--export", export).check();
        List<sleb.zeroshot.ZeroShot.TaskData> zsTasks = new ArrayList<>();
        for (String t : zeroshot) { // read before the long selection, so a bad task file fails at once
            sleb.zeroshot.Task task = sleb.zeroshot.Task.parse(t);
            zsTasks.add(sleb.zeroshot.ZeroShot.TaskData.load(task, task.defaultFile(zeroshotDir != null ? zeroshotDir : Installation.zeroshotDir()), zeroshotLimit == null ? 0 : zeroshotLimit));
        }
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            int n = model.config().nLayers;
            int remove = numRemoveBlocks != null ? numRemoveBlocks : Blocks.countFromRatio("--remove-ratio", removeRatio, n);
            BlockSearch.check(n, remove, early, latter);
            Tokenizer tok = opts.openTokenizer(model);
            boolean addBos = sleb.tokenizer.Tokenizers.bos(bos, tok);
            final int seqlen = ContextLength.choose(this.seqlen, model, "--seqlen", System.err);
            final int el = evalSeqlen != null ? ContextLength.choose(evalSeqlen, model, "--eval-seqlen", System.err) : seqlen;
            Calibration cal = Calibration.load(calib, s, nsamples, seqlen, seed, tok, addBos);
            int b = batch != null ? batch : Perplexity.autoBatch(seqlen);

            PruneState st = new PruneState();
            st.model.put("path", opts.model.toString());
            st.model.put("format", model.format().name().toLowerCase(Locale.ROOT));
            st.model.put("config", model.config().describe());
            st.model.put("blocks", n);
            st.model.put("fingerprint", Fingerprint.of(model));
            st.settings.put("metric", m.label());
            st.settings.put("num_remove_blocks", remove);
            if (removeRatio != null) st.settings.put("remove_ratio", removeRatio);
            st.settings.put("early_barrier", early);
            st.settings.put("latter_barrier", latter);
            st.settings.put("batch", b);
            st.settings.put("backend", be.describe());
            st.calibration.put("path", calib.toString());
            st.calibration.put("sampling", s.label());
            st.calibration.put("nsamples", nsamples);
            st.calibration.put("seqlen", seqlen);
            st.calibration.put("seed", seed);
            st.calibration.put("bos", addBos);
            st.calibration.put("stream_tokens", cal.streamTokens);
            st.calibration.put("windows", cal.windows.length);
            st.calibration.put("tokens", cal.tokens());
            st.calibration.put("sha256", cal.sha256);
            if (cal.offsets != null && cal.offsets.length <= 4096) st.calibration.put("offsets", cal.offsets);

            if (resume && Files.isRegularFile(out)) {
                PruneState old = PruneState.read(out);
                refuseChanges(old, st);
                old.resumes++;
                st = old;
                System.err.println("resume: " + out + " has " + st.removal_order.size() + " removal(s) " + st.removal_order + ", status " + st.status);
            } else if (resume) {
                System.err.println("resume: " + out + " does not exist yet; starting a new run");
            }
            System.err.println("model: " + model.config().describe());
            System.err.println("backend: " + be.describe() + "; tokenizer: " + tok.describe() + "; BOS " + (addBos ? "on" : "off"));
            System.err.printf(Locale.ROOT, "calibration: %s, %s sampling, %d windows x %d tokens (stream of %d tokens), sha256 %s%n",
                    calib, s.label(), cal.windows.length, seqlen, cal.streamTokens, cal.sha256.substring(0, 16));
            Path chart = chartPath(out);
            final PruneState state = st;
            try (LoadedModel lm = be.load(model)) {
                ContextLength.checkFits(lm, b, seqlen, "--seqlen");
                if (!specs.isEmpty()) ContextLength.checkFits(lm, Perplexity.autoBatch(el), el, evalSeqlen != null ? "--eval-seqlen" : "--seqlen");
                long budget = cacheMib != null ? cacheMib << 20 : lm.defaultCacheBytes();
                if (state.status.equals("selecting")) {
                    state.save(out);
                    BlockSearch.Listener l = x -> x.save(out);
                    new BlockSearch(lm, cal.windows, b, m, remove, early, latter, budget, noCache, state, l, !quiet).run();
                    state.chart = chart.getFileName().toString();
                }
                selected = true;
                int[] keep = Blocks.keep(n, state.removal_order);
                state.kept_blocks = new ArrayList<>();
                for (int k : keep) state.kept_blocks.add(k);
                System.out.println("removal order: " + state.removal_order);
                System.out.printf(Locale.ROOT, "selection: %.2f s, %d block evals (the official algorithm: %d, %.1f%%)%n", state.selection_seconds,
                        state.block_evals, state.official_block_evals, 100.0 * state.block_evals / Math.max(1, state.official_block_evals));
                if (!specs.isEmpty()) {
                    if (state.eval_dense == null) state.eval_dense = new LinkedHashMap<>();
                    if (state.eval_pruned == null) state.eval_pruned = new LinkedHashMap<>();
                    int maxWindows = evalMaxWindows == null ? 0 : evalMaxWindows; // 0: all
                    for (TextDatasets.Spec spec : specs) {
                        int[][] w = null;
                        for (int pass = 0; pass < 2; pass++) {
                            Map<String, Object> into = pass == 0 ? state.eval_dense : state.eval_pruned;
                            if (into.containsKey(spec.name)) continue;
                            if (w == null) w = TokenStream.evalWindows(spec, tok, addBos, el, maxWindows);
                            int[] blocks = pass == 0 ? Blocks.all(n) : keep;
                            Perplexity.Result r = Perplexity.run(lm, spec.name + (pass == 0 ? " dense" : " pruned"), w, blocks, Perplexity.autoBatch(el), !quiet);
                            Map<String, Object> row = new LinkedHashMap<>();
                            row.put("path", spec.path.toString());
                            row.put("max_windows", maxWindows);
                            row.put("blocks", blocks.length);
                            row.putAll(r.toJson());
                            into.put(spec.name, row);
                            state.save(out);
                        }
                        System.out.printf(Locale.ROOT, "%s: ppl %.4f dense (%d blocks) -> %.4f pruned (%d blocks)%n", spec.name,
                                ((Number) ((Map<?, ?>) state.eval_dense.get(spec.name)).get("ppl")).doubleValue(), n,
                                ((Number) ((Map<?, ?>) state.eval_pruned.get(spec.name)).get("ppl")).doubleValue(), keep.length);
                    }
                }
                if (!zsTasks.isEmpty()) zeroShotBeforeAfter(state, lm, tok, addBos, n, zsTasks);
            }
            PruneChart.write(state, chart);
            state.chart = chart.getFileName().toString();
            if (export != null) {
                Exporter.export(model, state.removal_order, export, format, opts.tokenizerPath());
                state.export = export.toString();
                System.out.println("exported: " + export);
            }
            state.status = "done";
            state.save(out);
            System.out.println("run file: " + out + "; chart: " + chart);
        } catch (UsageException | java.io.IOException | OutOfMemoryError e) {
            if (!selected) throw e;
            throw afterSelection(e);
        }
        return 0;
    }

    /** A failure once the selection is saved: what failed, and that --resume finishes the job without selecting again. */
    private UsageException afterSelection(Throwable e) {
        return new UsageException(Main.userMessage(e) + "; the selection is saved in " + out
                + ": fix this and run the same `sleb prune ... --resume` to finish the job from it");
    }

    private boolean selected;

    /** Accuracy of the dense and the pruned model on each task; each result is saved as soon as it exists (resume skips it). */
    private void zeroShotBeforeAfter(PruneState state, sleb.backend.LoadedModel lm, Tokenizer tok, boolean addBos, int n,
                                     List<sleb.zeroshot.ZeroShot.TaskData> tasks) throws java.io.IOException {
        if (state.zeroshot_dense == null) state.zeroshot_dense = new LinkedHashMap<>();
        if (state.zeroshot_pruned == null) state.zeroshot_pruned = new LinkedHashMap<>();
        int[] keep = Blocks.keep(n, state.removal_order);
        sleb.zeroshot.ZeroShot.Options o = new sleb.zeroshot.ZeroShot.Options(addBos);
        o.progress = !quiet;
        for (sleb.zeroshot.ZeroShot.TaskData t : tasks) {
            for (int pass = 0; pass < 2; pass++) {
                Map<String, Object> into = pass == 0 ? state.zeroshot_dense : state.zeroshot_pruned;
                if (into.containsKey(t.task().id)) continue;
                sleb.zeroshot.ZeroShot.TaskResult r = sleb.zeroshot.ZeroShot.evaluate(lm, tok, t, pass == 0 ? Blocks.all(n) : keep, o);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("n", r.n);
                row.put("acc", r.acc);
                if (t.task().reportsAccNorm) row.put("acc_norm", r.accNorm);
                into.put(t.task().id, row);
                state.save(out);
            }
            Map<?, ?> d = (Map<?, ?>) state.zeroshot_dense.get(t.task().id), q = (Map<?, ?>) state.zeroshot_pruned.get(t.task().id);
            System.out.printf(Locale.ROOT, "%s: acc %.4f dense -> %.4f pruned (n %s)%n", t.task().id,
                    ((Number) d.get("acc")).doubleValue(), ((Number) q.get("acc")).doubleValue(), d.get("n"));
        }
    }

    static Path chartPath(Path out) {
        String name = out.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return out.resolveSibling(base + ".png");
    }

    /** A resumed run must be the same run: same weights, calibration tokens and selection settings. */
    private static void refuseChanges(PruneState old, PruneState now) {
        if (!String.valueOf(old.model.get("fingerprint")).equals(now.model.get("fingerprint")))
            throw new UsageException("cannot --resume: the model changed (" + old.model.get("path") + " then, " + now.model.get("path")
                    + " now; weight fingerprints differ); start a new run or use a different --out");
        Map<String, Object> oc = new LinkedHashMap<>(), nc = new LinkedHashMap<>();
        for (String k : new String[] {"sampling", "nsamples", "seqlen", "seed", "bos"}) {
            oc.put(k, old.calibration.get(k));
            nc.put(k, now.calibration.get(k));
        }
        diff("calibration", oc, nc);
        if (!String.valueOf(old.calibration.get("sha256")).equals(now.calibration.get("sha256")))
            throw new UsageException("cannot --resume: the calibration tokens changed (sha256 " + old.calibration.get("sha256") + " in the run file, "
                    + now.calibration.get("sha256") + " now: the --calib file's contents or the tokenizer differ)");
        Map<String, Object> o = new LinkedHashMap<>(old.settings), w = new LinkedHashMap<>(now.settings);
        o.remove("backend");
        w.remove("backend");
        diff("setting", o, w);
    }

    private static void diff(String what, Map<String, Object> old, Map<String, Object> now) {
        for (String k : now.keySet()) {
            JsonElement a = Json.GSON.toJsonTree(old.get(k)), c = Json.GSON.toJsonTree(now.get(k));
            if (!a.equals(c))
                throw new UsageException("cannot --resume: the " + what + " '" + k + "' changed (" + Json.show(a) + " in the run file, " + Json.show(c)
                        + " now); rerun with the original flags, or start a new run without --resume");
        }
        for (String k : old.keySet())
            if (!now.containsKey(k)) throw new UsageException("cannot --resume: the " + what + " '" + k + "' was set in the run file but not now");
    }
}
