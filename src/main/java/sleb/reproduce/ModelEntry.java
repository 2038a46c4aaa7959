package sleb.reproduce;

import java.nio.file.Path;
import sleb.model.ModelConfig;

/**
 * A model of the reproduction as the plan needs it: where it is, its short label (the output directory name),
 * its config, the paper model it is (null if none) and how many characters its tokenizer makes one token of
 * on the calibration text (for the time estimate).
 */
public record ModelEntry(Path path, Path tokenizer, String label, ModelConfig config, PaperValues.PaperModel paper, double charsPerToken) {
    /** A label from the path: the directory name, or the file name without its extension. */
    public static String labelOf(Path path) {
        String n = path.toAbsolutePath().normalize().getFileName().toString();
        if (n.equals("config.json") || n.endsWith(".safetensors")) n = path.toAbsolutePath().normalize().getParent().getFileName().toString();
        int dot = n.lastIndexOf('.');
        if (dot > 0 && !java.nio.file.Files.isDirectory(path)) n = n.substring(0, dot);
        return n.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
