package sleb.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.eval.ContextLength;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.model.Model;
import sleb.prune.BlockSearch;
import sleb.prune.Calibration;
import sleb.model.Exporter;
import sleb.prune.PruneRun;
import sleb.tokenizer.Tokenizer;
import sleb.util.OutputPaths;
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

    @Option(names = "--seqlen", description = "tokens per calibration window (default: min(2048, the model's trained context: max_position_embeddings, or a llama2.c seq_len)); longer than that warns (refused for OPT, whose learned positions end there)")
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

    @Option(names = "--format", defaultValue = "auto", description = "export format: hf, llama2c, gguf, or auto (the source's) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--outtype", paramLabel = "T", description = "GGUF export tensor type: f32, f16, bf16, q8_0, or auto (each tensor's stored dtype; 1-D tensors are always F32) (default: auto)")
    String outType;

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
        NumberChecks.atLeastNoDefault("--num-remove-blocks", numRemoveBlocks, 1);
        if (removeRatio != null) BlockFlags.countFromRatio("--remove-ratio", removeRatio, 1);
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
        Exporter.checkOutType(Exporter.effectiveFormat(format, opts.model), outType);
        List<TextDatasets.Spec> specs = TextDatasets.Spec.parseAll("--eval", evals);
        Preflight pf = opts.checkInputs(new Preflight()).inputFile("--calib", calib);
        for (TextDatasets.Spec spec : specs) pf.inputFile("--eval " + spec.name, spec.path);
        pf.outputFile("--out", out).outputFile("the chart beside --out", OutputPaths.pngBeside(out)).outputDir("--export", export).check();
        List<sleb.zeroshot.ZeroShot.TaskData> zsTasks = new ArrayList<>();
        for (String t : zeroshot) { // read before the long selection, so a bad task file fails at once
            sleb.zeroshot.Task task = sleb.zeroshot.Task.parse(t);
            zsTasks.add(sleb.zeroshot.ZeroShot.TaskData.load(task, task.defaultFile(zeroshotDir != null ? zeroshotDir : Installation.zeroshotDir()), zeroshotLimit == null ? 0 : zeroshotLimit));
            if (zsTasks.get(zsTasks.size() - 1).deviation() != null) System.err.println("note: " + zsTasks.get(zsTasks.size() - 1).deviation());
        }
        PruneRun run = new PruneRun();
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            int n = model.config().nLayers;
            int remove = numRemoveBlocks != null ? numRemoveBlocks : BlockFlags.countFromRatio("--remove-ratio", removeRatio, n);
            BlockSearch.check(n, remove, early, latter);
            Tokenizer tok = opts.openTokenizer(model);
            if (export != null && Exporter.effectiveFormat(format, opts.model).equals("gguf")) Exporter.checkGgufExport(model, opts.tokenizerPath());
            boolean addBos = sleb.tokenizer.Tokenizers.bos(bos, tok);
            final int seqlen = ContextLength.choose(this.seqlen, model, "--seqlen", System.err);
            run.evalSeqlen = evalSeqlen != null ? ContextLength.choose(evalSeqlen, model, "--eval-seqlen", System.err) : seqlen;
            run.evalSeqlenFlag = evalSeqlen != null ? "--eval-seqlen" : "--seqlen";
            run.model = model;
            run.modelPath = opts.model.toString();
            run.backend = be;
            run.tokenizer = tok;
            run.tokenizerPath = opts.tokenizerPath();
            run.addBos = addBos;
            run.calibPath = calib;
            run.calibration = Calibration.load(calib, s, nsamples, seqlen, seed, tok, addBos);
            run.sampling = s;
            run.nsamples = nsamples;
            run.seed = seed;
            run.metric = m;
            run.remove = remove;
            run.removeRatio = removeRatio;
            run.early = early;
            run.latter = latter;
            run.batch = batch != null ? batch : Perplexity.autoBatch(seqlen);
            run.cacheMib = cacheMib;
            run.noCache = noCache;
            run.evals = specs;
            run.evalMaxWindows = evalMaxWindows == null ? 0 : evalMaxWindows; // 0: all
            run.zeroshot = zsTasks;
            run.export = export;
            run.exportFormat = format;
            run.exportOutType = outType;
            run.out = out;
            run.resume = resume;
            run.progress = !quiet;
            run.run();
        } catch (UsageException | java.io.IOException | OutOfMemoryError e) {
            if (!run.selected()) throw e;
            throw afterSelection(e);
        }
        return 0;
    }

    /** A failure once the selection is saved: what failed, and that --resume finishes the job without selecting again. */
    private UsageException afterSelection(Throwable e) {
        return new UsageException(Main.userMessage(e) + "; the selection is saved in " + out
                + ": fix this and run the same `sleb prune ... --resume` to finish the job from it");
    }
}
