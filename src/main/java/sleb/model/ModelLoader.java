package sleb.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a model from a Hugging Face directory, a GGUF file (told by its magic) or a llama2.c .bin checkpoint. */
public final class ModelLoader {
    private ModelLoader() {}

    public static Model load(Path path) throws IOException {
        if (!Files.exists(path)) throw new ModelFormatException("model path " + path + " does not exist; pass an HF directory, a .gguf file or a llama2.c .bin file");
        if (Files.isDirectory(path) && !Files.exists(path.resolve("config.json")) && Files.isRegularFile(path.resolve(Exporter.GGUF_FILE)))
            return GgufLoader.load(path.resolve(Exporter.GGUF_FILE)); // what `sleb export --format gguf` writes
        if (Files.isDirectory(path)) return HfModelLoader.load(path);
        if (isGguf(path)) return GgufLoader.load(path);
        String name = path.getFileName().toString();
        if (name.endsWith(".safetensors") || name.equals("config.json")) return HfModelLoader.load(path.toAbsolutePath().getParent());
        return Llama2cLoader.load(path);
    }

    /** Whether path is a GGUF file: its magic, or a .gguf name (so a cut .gguf is reported as a bad GGUF file). */
    public static boolean isGguf(Path path) {
        return !Files.isDirectory(path) && (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf") || GgufFile.looksLikeGguf(path));
    }
}
