package sleb.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
import sleb.tokenizer.Tokenizer;
import sleb.util.UsageException;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Perplexity as the SLEB paper measures it: the text as one token stream, non-overlapping windows of --seqlen tokens.")
public final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "blocks to skip, e.g. 1,3 (0-based)")
    List<Integer> remove = new ArrayList<>();

    @Option(names = "--data", required = true, paramLabel = "NAME=PATH",
            description = "dataset to evaluate; NAME wikitext2, ptb or c4 picks the official preparation, any other reads the file as it is (.jsonl/.jsonl.gz: \"text\" fields)")
    List<String> data;

    @Option(names = "--seqlen", description = "window length in tokens (default: min(2048, the model's trained context: max_position_embeddings, or a llama2.c seq_len)); longer than that warns (refused for OPT, whose learned positions end there)")
    Integer seqlen;

    @Option(names = "--max-windows", paramLabel = "K", description = "evaluate at most K windows (default: all)")
    Integer maxWindows;

    @Option(names = "--bos", negatable = true, description = "put one BOS token at the start of the stream (default: as the tokenizer's own config says; refused for a tokenizer without BOS)")
    Boolean bos;

    @Option(names = "--batch", paramLabel = "B", description = "windows per forward pass (default: enough for ~2048 tokens)")
    Integer batch;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Mixin ResultsFileOptions results;

    @Override
    public Integer call() throws Exception {
        NumberChecks.atLeast("--seqlen", seqlen, 2);
        NumberChecks.atLeast("--max-windows", maxWindows, 1);
        NumberChecks.atLeast("--batch", batch, 1);
        results.check();
        List<TextDatasets.Spec> specs = TextDatasets.Spec.parseAll("--data", data);
        Preflight pf = opts.checkInputs(new Preflight());
        for (TextDatasets.Spec spec : specs) pf.inputFile("--data " + spec.name, spec.path);
        results.checkOutput(pf).check();
        int windowLimit = maxWindows == null ? 0 : maxWindows; // 0: all
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            Tokenizer tok = opts.openTokenizer(model);
            int[] keep = BlockFlags.removing("--remove", model.config().nLayers, remove).kept();
            boolean addBos = sleb.tokenizer.Tokenizers.bos(bos, tok);
            System.err.println("model: " + model.config().describe());
            System.err.println("backend: " + be.describe() + "; tokenizer: " + tok.describe() + "; BOS " + (addBos ? "on" : "off"));
            final int seqlen = ContextLength.choose(this.seqlen, model, "--seqlen", System.err);
            ResultsFile st = new ResultsFile();
            st.settings.put("model", opts.model.toAbsolutePath().normalize().toString());
            st.settings.put("removed", new ArrayList<>(remove));
            st.settings.put("bos", addBos);
            st.settings.put("seqlen", seqlen);
            st.settings.put("max_windows", windowLimit);
            List<String> names = new ArrayList<>();
            for (TextDatasets.Spec spec : specs) names.add(spec.name + "=" + spec.path.toAbsolutePath().normalize());
            st.settings.put("data", names);
            st = results.open(st);
            st.backend = be.describe();
            try (LoadedModel lm = be.load(model)) {
                int b = batch != null ? batch : Perplexity.autoBatch(seqlen);
                ContextLength.checkFits(lm, b, seqlen, "--seqlen");
                for (TextDatasets.Spec spec : specs) {
                    if (st.row(spec.name) != null) {
                        System.out.println(spec.name + ": done in the resumed run, ppl " + st.row(spec.name).get("ppl"));
                        continue;
                    }
                    int[][] windows = TokenStream.evalWindows(spec, tok, addBos, seqlen, windowLimit);
                    int start = st.partialWindows(spec.name);
                    final ResultsFile state = st;
                    Perplexity.Checkpoint cp = results.out == null ? null : (done, nll) -> state.savePartial(results.out, spec.name, done, nll);
                    Perplexity.Result r = Perplexity.run(lm, spec.name, windows, keep, b, !quiet, start, st.partialNll(spec.name), cp);
                    System.out.printf("%s: ppl %.4f (tokens %d, windows %d, seqlen %d, %.0f tokens/s)%n",
                            r.dataset, r.ppl, r.tokens, r.windows, r.seqlen, r.tokensPerSecond);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("dataset", r.dataset);
                    row.put("path", spec.path.toString());
                    row.putAll(r.toJson());
                    st.finish(row);
                    results.save(st);
                }
            }
            st.status = "done";
            results.save(st);
        }
        return 0;
    }
}
