package sleb.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a tokenizer file of any supported format, or finds the one beside a model. */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer load(Path path, int modelVocabSize) throws IOException {
        if (!Files.isRegularFile(path)) throw new TokenizerException("tokenizer file " + path + " does not exist");
        return new Llama2cTokenizer(path, modelVocabSize);
    }

    /** The tokenizer file beside a model, or null when there is none. */
    public static Path findBeside(Path model) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (String n : new String[] {"tokenizer.json", "tokenizer.model", "tokenizer.bin"}) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }
}
