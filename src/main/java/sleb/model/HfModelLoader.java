package sleb.model;

import java.io.IOException;
import java.nio.file.Path;

/** Hugging Face LLaMA-family directories (config.json + safetensors). Placeholder until the loader lands. */
public final class HfModelLoader {
    private HfModelLoader() {}

    public static Model load(Path dir) throws IOException {
        throw new ModelFormatException("Hugging Face directories are not supported yet: " + dir);
    }
}
