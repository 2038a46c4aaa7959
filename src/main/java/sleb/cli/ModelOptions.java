package sleb.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.backend.Backends;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.util.UsageException;

/** --model, --tokenizer and --device, shared by every command that runs a model. */
public final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "M", description = "Hugging Face model directory or llama2.c .bin checkpoint")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "T", description = "tokenizer.json, tokenizer.model or llama2.c tokenizer .bin (default: the one beside the model)")
    Path tokenizer;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "cpu, cuda, cuda:N, cuda:0,1 (blocks split over GPUs) or auto (default: ${DEFAULT-VALUE})")
    String device;

    public Model openModel() throws IOException { return ModelLoader.load(model); }

    /** --tokenizer, or the tokenizer file found beside the model (null if none). */
    public Path tokenizerPath() { return tokenizer != null ? tokenizer : Tokenizers.findBeside(model); }

    public Tokenizer openTokenizer(Model m) throws IOException {
        Path t = tokenizerPath();
        if (t == null) throw new UsageException("no tokenizer found beside " + model + "; pass --tokenizer PATH");
        return Tokenizers.load(t, m.config().vocabSize);
    }

    public Backend openBackend() { return Backends.open(device); }
}
