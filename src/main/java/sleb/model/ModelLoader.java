package sleb.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a model from a Hugging Face directory or a llama2.c .bin checkpoint. */
public final class ModelLoader {
    private ModelLoader() {}

    public static Model load(Path path) throws IOException {
        if (!Files.exists(path)) throw new ModelFormatException("model path " + path + " does not exist; pass an HF directory or a llama2.c .bin file");
        if (Files.isDirectory(path)) return HfModelLoader.load(path);
        String name = path.getFileName().toString();
        if (name.endsWith(".safetensors") || name.equals("config.json")) return HfModelLoader.load(path.toAbsolutePath().getParent());
        return Llama2cLoader.load(path);
    }
}
