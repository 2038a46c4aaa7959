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
    @Option(names = "--model", required = true, paramLabel = "M", description = "Hugging Face model directory, GGUF file (llama architecture) or llama2.c .bin checkpoint")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "T", description = "tokenizer.json, tokenizer.model, llama2.c tokenizer .bin, vocab.json with merges.txt beside it (GPT-2 BPE, OPT) or a .gguf holding one (default: the one beside the model; a GGUF model's own)")
    Path tokenizer;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "cpu, cuda, cuda:N, cuda:0,1 (blocks split over GPUs) or auto (default: ${DEFAULT-VALUE})")
    String device;

    public Model openModel() throws IOException { return ModelLoader.load(model); }

    /** Adds --model and --tokenizer to the checks made before loading. */
    public Preflight checkInputs(Preflight p) {
        return p.inputPath("--model", model).inputPath("--tokenizer", tokenizer);
    }

    /** Whether --model names a llama2.c checkpoint (as {@link ModelLoader} decides), without reading it. */
    public boolean isLlama2c() {
        if (java.nio.file.Files.isDirectory(model) || ModelLoader.isGguf(model)) return false;
        String name = model.getFileName().toString();
        return !name.endsWith(".safetensors") && !name.equals("config.json");
    }

    /** --tokenizer, or the tokenizer file found beside the model (null if none). */
    public Path tokenizerPath() { return tokenizer != null ? tokenizer : Tokenizers.findBeside(model); }

    public Tokenizer openTokenizer(Model m) throws IOException {
        Path t = tokenizerPath();
        if (t == null) throw new UsageException("no tokenizer found beside " + model + "; pass --tokenizer PATH");
        return Tokenizers.load(t, m.config().vocabSize);
    }

    public Backend openBackend() { return Backends.open(device); }
}
