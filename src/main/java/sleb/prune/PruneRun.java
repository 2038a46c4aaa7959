package sleb.prune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.eval.ContextLength;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.BlockSelection;
import sleb.model.Exporter;
import sleb.model.Model;
import sleb.tokenizer.Tokenizer;
import sleb.util.OutputPaths;
import sleb.util.SettingsDiff;
import sleb.util.UsageException;
import sleb.zeroshot.ZeroShot;

/**
 * One `sleb prune` job once its flags are checked and its inputs read: the run record (run.json), the refusal
 * to resume a different run, the SLEB selection, perplexity and zero-shot accuracy before and after, the chart
 * and the export. Every result is saved as soon as it exists, so {@code --resume} skips what is done.
 * The command sets the fields, then calls {@link #run}.
 */
public final class PruneRun {
    // the model and its inputs
    public Model model;
    public String modelPath;
    public Backend backend;
    public Tokenizer tokenizer;
    public Path tokenizerPath;
    public boolean addBos;
    public Path calibPath;
    public Calibration calibration;
    public Calibration.Sampling sampling;
    public int nsamples;
    public long seed;
    // the selection
    public BlockSearch.Metric metric;
    public int remove;
    /** The ratio the count came from, recorded when given; null otherwise. */
    public Double removeRatio;
    public int early, latter, batch;
    /** Memory for cached hidden states in MiB; null: the backend's default. */
    public Long cacheMib;
    public boolean noCache;
    // after the selection
    public List<TextDatasets.Spec> evals = new ArrayList<>();
    public int evalSeqlen;
    /** The flag that set {@link #evalSeqlen}, for the message when it does not fit. */
    public String evalSeqlenFlag;
    /** At most this many windows per eval dataset; 0: all. */
    public int evalMaxWindows;
    public List<ZeroShot.TaskData> zeroshot = new ArrayList<>();
    public Path export;
    public String exportFormat;
    /** GGUF export tensor type (--outtype), null for auto. */
    public String exportOutType;
    // the run file
    public Path out;
    public boolean resume;
    public boolean progress;

    private boolean selected;

    /** Whether the removal order is final and saved (a later failure can then be finished with --resume). */
    public boolean selected() { return selected; }

    public void run() throws IOException {
        int n = model.config().nLayers;
        int seqlen = calibration.seqlen;
        PruneState st = record();
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
        System.err.println("backend: " + backend.describe() + "; tokenizer: " + tokenizer.describe() + "; BOS " + (addBos ? "on" : "off"));
        System.err.printf(Locale.ROOT, "calibration: %s, %s sampling, %d windows x %d tokens (stream of %d tokens), sha256 %s%n",
                calibPath, sampling.label(), calibration.windows.length, seqlen, calibration.streamTokens, calibration.sha256.substring(0, 16));
        Path chart = OutputPaths.pngBeside(out);
        final PruneState state = st;
        BlockSelection blocks;
        try (LoadedModel lm = backend.load(model)) {
            ContextLength.checkFits(lm, batch, seqlen, "--seqlen");
            if (!evals.isEmpty()) ContextLength.checkFits(lm, Perplexity.autoBatch(evalSeqlen), evalSeqlen, evalSeqlenFlag);
            long budget = cacheMib != null ? cacheMib << 20 : lm.defaultCacheBytes();
            if (state.status.equals("selecting")) {
                state.save(out);
                BlockSearch.Listener l = x -> x.save(out);
                new BlockSearch(lm, calibration.windows, batch, metric, remove, early, latter, budget, noCache, state, l, progress).run();
                state.chart = chart.getFileName().toString();
            }
            selected = true;
            blocks = BlockSelection.removing(n, state.removal_order);
            state.kept_blocks = new ArrayList<>();
            for (int k : blocks.kept()) state.kept_blocks.add(k);
            System.out.println("removal order: " + state.removal_order);
            System.out.printf(Locale.ROOT, "selection: %.2f s, %d block evals (the official algorithm: %d, %.1f%%)%n", state.selection_seconds,
                    state.block_evals, state.official_block_evals, 100.0 * state.block_evals / Math.max(1, state.official_block_evals));
            if (!evals.isEmpty()) perplexityBeforeAfter(state, lm, blocks);
            if (!zeroshot.isEmpty()) zeroShotBeforeAfter(state, lm, blocks);
        }
        PruneChart.write(state, chart);
        state.chart = chart.getFileName().toString();
        if (export != null) {
            Exporter.export(model, blocks, export, exportFormat, tokenizerPath, exportOutType);
            state.export = export.toString();
            System.out.println("exported: " + export);
        }
        state.status = "done";
        state.save(out);
        System.out.println("run file: " + out + "; chart: " + chart);
    }

    /** What defines this run: the model, the selection settings and the calibration tokens. */
    private PruneState record() {
        PruneState st = new PruneState();
        st.model.put("path", modelPath);
        st.model.put("format", model.format().name().toLowerCase(Locale.ROOT));
        st.model.put("config", model.config().describe());
        st.model.put("blocks", model.config().nLayers);
        st.model.put("fingerprint", Fingerprint.of(model));
        st.settings.put("metric", metric.label());
        st.settings.put("num_remove_blocks", remove);
        if (removeRatio != null) st.settings.put("remove_ratio", removeRatio);
        st.settings.put("early_barrier", early);
        st.settings.put("latter_barrier", latter);
        st.settings.put("batch", batch);
        st.settings.put("backend", backend.describe());
        Calibration cal = calibration;
        st.calibration.put("path", calibPath.toString());
        st.calibration.put("sampling", sampling.label());
        st.calibration.put("nsamples", nsamples);
        st.calibration.put("seqlen", cal.seqlen);
        st.calibration.put("seed", seed);
        st.calibration.put("bos", addBos);
        st.calibration.put("stream_tokens", cal.streamTokens);
        st.calibration.put("windows", cal.windows.length);
        st.calibration.put("tokens", cal.tokens());
        st.calibration.put("sha256", cal.sha256);
        if (cal.offsets != null && cal.offsets.length <= 4096) st.calibration.put("offsets", cal.offsets);
        return st;
    }

    /** Perplexity of the dense and the pruned model on each --eval dataset; each result is saved as soon as it exists (resume skips it). */
    private void perplexityBeforeAfter(PruneState state, LoadedModel lm, BlockSelection blocks) throws IOException {
        if (state.eval_dense == null) state.eval_dense = new LinkedHashMap<>();
        if (state.eval_pruned == null) state.eval_pruned = new LinkedHashMap<>();
        for (TextDatasets.Spec spec : evals) {
            int[][] w = null;
            for (int pass = 0; pass < 2; pass++) {
                Map<String, Object> into = pass == 0 ? state.eval_dense : state.eval_pruned;
                if (into.containsKey(spec.name)) continue;
                if (w == null) w = TokenStream.evalWindows(spec, tokenizer, addBos, evalSeqlen, evalMaxWindows);
                int[] run = pass == 0 ? blocks.all() : blocks.kept();
                Perplexity.Result r = Perplexity.run(lm, spec.name + (pass == 0 ? " dense" : " pruned"), w, run, Perplexity.autoBatch(evalSeqlen), progress);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("path", spec.path.toString());
                row.put("max_windows", evalMaxWindows);
                row.put("blocks", run.length);
                row.putAll(r.toJson());
                into.put(spec.name, row);
                state.save(out);
            }
            System.out.printf(Locale.ROOT, "%s: ppl %.4f dense (%d blocks) -> %.4f pruned (%d blocks)%n", spec.name,
                    ((Number) ((Map<?, ?>) state.eval_dense.get(spec.name)).get("ppl")).doubleValue(), blocks.nLayers(),
                    ((Number) ((Map<?, ?>) state.eval_pruned.get(spec.name)).get("ppl")).doubleValue(), blocks.kept().length);
        }
    }

    /** Accuracy of the dense and the pruned model on each task; each result is saved as soon as it exists (resume skips it). */
    private void zeroShotBeforeAfter(PruneState state, LoadedModel lm, BlockSelection blocks) throws IOException {
        if (state.zeroshot_dense == null) state.zeroshot_dense = new LinkedHashMap<>();
        if (state.zeroshot_pruned == null) state.zeroshot_pruned = new LinkedHashMap<>();
        ZeroShot.Options o = new ZeroShot.Options(addBos);
        o.progress = progress;
        for (ZeroShot.TaskData t : zeroshot) {
            for (int pass = 0; pass < 2; pass++) {
                Map<String, Object> into = pass == 0 ? state.zeroshot_dense : state.zeroshot_pruned;
                if (into.containsKey(t.task().id)) continue;
                ZeroShot.TaskResult r = ZeroShot.evaluate(lm, tokenizer, t, pass == 0 ? blocks.all() : blocks.kept(), o);
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
        refuseChange("calibration", oc, nc);
        if (!String.valueOf(old.calibration.get("sha256")).equals(now.calibration.get("sha256")))
            throw new UsageException("cannot --resume: the calibration tokens changed (sha256 " + old.calibration.get("sha256") + " in the run file, "
                    + now.calibration.get("sha256") + " now: the --calib file's contents or the tokenizer differ)");
        Map<String, Object> o = new LinkedHashMap<>(old.settings), w = new LinkedHashMap<>(now.settings);
        o.remove("backend");
        w.remove("backend");
        refuseChange("setting", o, w);
    }

    private static void refuseChange(String what, Map<String, Object> old, Map<String, Object> now) {
        SettingsDiff.Change c = SettingsDiff.first(old, now);
        if (c == null) return;
        if (c.now() == null) throw new UsageException("cannot --resume: the " + what + " '" + c.key() + "' was set in the run file but not now");
        throw new UsageException("cannot --resume: the " + what + " '" + c.key() + "' changed (" + c.recorded() + " in the run file, " + c.now()
                + " now); rerun with the original flags, or start a new run without --resume");
    }
}
