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
import sleb.eval.LlamaCppPerplexity;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.tokenizer.Tokenizer;
import sleb.util.UsageException;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Perplexity of a text under --protocol:",
                "  sleb (default): as the SLEB paper measures it: the text as one token stream, non-overlapping windows of --seqlen tokens, every next token scored.",
                "  llamacpp: what `llama-perplexity -f FILE -c SEQLEN` computes: the file as it is (one final newline dropped), BOS at the start of every chunk"
                        + " (replacing its first token), only the second half of each chunk scored; prints llama.cpp's final estimate and its +/-."})
public final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "blocks to skip, e.g. 1,3 (0-based)")
    List<Integer> remove = new ArrayList<>();

    @Option(names = "--data", required = true, paramLabel = "NAME=PATH",
            description = "dataset to evaluate; NAME wikitext2, ptb or c4 picks the official preparation, any other reads the file as it is (.jsonl/.jsonl.gz: \"text\" fields)")
    List<String> data;

    @Option(names = "--protocol", paramLabel = "sleb|llamacpp", description = "sleb (default: the paper's windows) or llamacpp (llama-perplexity's chunks); see above")
    String protocol = "sleb";

    @Option(names = "--seqlen", description = "window length in tokens (default: min(2048, the model's trained context: max_position_embeddings, or a llama2.c seq_len);"
            + " with --protocol llamacpp it is llama-perplexity's -c, default 512); longer than the trained context warns (refused for OPT, whose learned positions end there)")
    Integer seqlen;

    @Option(names = "--max-windows", paramLabel = "K", description = "evaluate at most K windows (default: all); with --protocol llamacpp, K chunks as llama-perplexity --chunks K")
    Integer maxWindows;

    @Option(names = "--bos", negatable = true, description = "put one BOS token at the start of the stream (default: as the tokenizer's own config says; refused for a tokenizer without BOS)")
    Boolean bos;

    @Option(names = "--batch", paramLabel = "B", description = "windows per forward pass (default: enough for ~2048 tokens)")
    Integer batch;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Mixin ResultsFileOptions results;

    /** llama-perplexity's default -c. */
    static final int LLAMA_PERPLEXITY_N_CTX = 512;

    static boolean isLlamaCpp(String protocol) {
        if (protocol.equals("llamacpp")) return true;
        if (protocol.equals("sleb")) return false;
        throw new UsageException("--protocol must be sleb or llamacpp, got '" + protocol + "'");
    }

    @Override
    public Integer call() throws Exception {
        NumberChecks.atLeast("--seqlen", seqlen, 2);
        NumberChecks.atLeast("--max-windows", maxWindows, 1);
        NumberChecks.atLeast("--batch", batch, 1);
        boolean llamacpp = isLlamaCpp(protocol);
        if (llamacpp) NumberChecks.atLeast("--seqlen", seqlen, 4);
        results.check();
        List<TextDatasets.Spec> specs = TextDatasets.Spec.parseAll("--data", data);
        Preflight pf = opts.checkInputs(new Preflight());
        for (TextDatasets.Spec spec : specs) {
            pf.inputFile("--data " + spec.name, spec.path);
            if (llamacpp && TextDatasets.isJsonLines(spec.path))
                throw new UsageException("--protocol llamacpp reads --data files as plain text, as llama-perplexity -f does; " + spec.path
                        + " is JSON lines: extract its text to a plain file first");
        }
        results.checkOutput(pf).check();
        int windowLimit = maxWindows == null ? 0 : maxWindows; // 0: all
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            Tokenizer tok = opts.openTokenizer(model);
            int[] keep = BlockFlags.removing("--remove", model.config().nLayers, remove).kept();
            boolean addBos = sleb.tokenizer.Tokenizers.bos(bos, tok);
            System.err.println("model: " + model.config().describe());
            System.err.println("backend: " + be.describe() + "; tokenizer: " + tok.describe() + "; BOS " + (addBos ? "on" : "off"));
            final int seqlen = llamacpp ? ContextLength.choose(this.seqlen != null ? this.seqlen : LLAMA_PERPLEXITY_N_CTX, model, "--seqlen", System.err)
                    : ContextLength.choose(this.seqlen, model, "--seqlen", System.err);
            ResultsFile st = new ResultsFile();
            st.settings.put("model", opts.model.toAbsolutePath().normalize().toString());
            if (llamacpp) st.settings.put("protocol", "llamacpp"); // absent for the paper's protocol, as in files written before --protocol
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
                    final ResultsFile state = st;
                    if (llamacpp) {
                        int[] ids = LlamaCppPerplexity.tokens(tok, TextDatasets.readText(spec.path), addBos);
                        int[][] chunks = LlamaCppPerplexity.chunks(spec.name, ids, seqlen, windowLimit, addBos ? tok.bosId() : -1);
                        LlamaCppPerplexity.Checkpoint cp = results.out == null ? null
                                : (done, nll, nll2) -> state.savePartial(results.out, spec.name, done, nll, nll2);
                        LlamaCppPerplexity.Result r = LlamaCppPerplexity.run(lm, spec.name, ids.length, chunks, keep, b, !quiet,
                                st.partialWindows(spec.name), st.partialNll(spec.name), st.partialNll2(spec.name), cp);
                        System.out.printf("%s: ppl %.4f +/- %.5f (llama.cpp protocol: tokens %d, chunks %d, n_ctx %d, scored %d, %.0f tokens/s)%n",
                                r.dataset, r.ppl, r.pplStderr, r.tokens, r.chunks, r.nCtx, r.scored, r.tokensPerSecond);
                        finish(st, spec, r.dataset, r.toJson());
                        continue;
                    }
                    int[][] windows = TokenStream.evalWindows(spec, tok, addBos, seqlen, windowLimit);
                    int start = st.partialWindows(spec.name);
                    Perplexity.Checkpoint cp = results.out == null ? null : (done, nll) -> state.savePartial(results.out, spec.name, done, nll);
                    Perplexity.Result r = Perplexity.run(lm, spec.name, windows, keep, b, !quiet, start, st.partialNll(spec.name), cp);
                    System.out.printf("%s: ppl %.4f (tokens %d, windows %d, seqlen %d, %.0f tokens/s)%n",
                            r.dataset, r.ppl, r.tokens, r.windows, r.seqlen, r.tokensPerSecond);
                    finish(st, spec, r.dataset, r.toJson());
                }
            }
            st.status = "done";
            results.save(st);
        }
        return 0;
    }

    /** One finished dataset: its row (name, file, the protocol's figures) added to the results and saved. */
    private void finish(ResultsFile st, TextDatasets.Spec spec, String dataset, Map<String, Object> figures) throws java.io.IOException {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("dataset", dataset);
        row.put("path", spec.path.toString());
        row.putAll(figures);
        st.finish(row);
        results.save(st);
    }
}
