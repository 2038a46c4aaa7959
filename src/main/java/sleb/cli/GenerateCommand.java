package sleb.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.Model;
import sleb.tokenizer.Tokenizer;
import sleb.util.UsageException;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "Greedy decoding with a KV cache: a sanity check a person can read.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--prompt", defaultValue = "", description = "text to continue, after BOS where the tokenizer has one (default: start from BOS alone; required for a tokenizer without BOS)")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "128", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "blocks to skip")
    List<Integer> remove = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        NumberChecks.atLeast("--max-tokens", maxTokens, 1);
        opts.checkInputs(new Preflight()).check();
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            Tokenizer tok = opts.openTokenizer(model);
            int[] keep = BlockFlags.removing("--remove", model.config().nLayers, remove).kept();
            int[] input = sleb.eval.TokenStream.of(tok, prompt, tok.hasBos());
            if (input.length == 0)
                throw new UsageException("the tokenizer (" + tok.describe() + ") has no BOS token to start from; give --prompt TEXT");
            int maxLen = input.length + maxTokens;
            if (model.config().isOpt() && maxLen > model.config().maxSeqLen)
                throw new UsageException("the prompt (" + input.length + " tokens) plus --max-tokens " + maxTokens + " is more than this OPT model's "
                        + "max_position_embeddings " + model.config().maxSeqLen + ", where its learned positions end; shorten the prompt or lower --max-tokens");
            try (LoadedModel lm = be.load(model); DecodeSession s = lm.newSession(1, maxLen, keep)) {
                System.out.print(prompt);
                float[] logits = s.prefill(new int[][] {input})[0];
                int prev = input[input.length - 1];
                long t0 = System.nanoTime();
                int n = 0;
                for (; n < maxTokens; n++) {
                    int next = argmax(logits);
                    if (next == tok.eosId() || next == tok.bosId()) break;
                    System.out.print(tok.decode(prev, next));
                    System.out.flush();
                    prev = next;
                    if (n + 1 < maxTokens) logits = s.step(new int[] {next})[0];
                }
                System.out.println();
                System.err.printf("%d tokens, %.1f tokens/s%n", n, n / ((System.nanoTime() - t0) / 1e9));
            }
        }
        return 0;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
