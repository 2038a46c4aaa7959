package sleb.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads DJL's HuggingFaceTokenizer without network access: the CPU build of libtokenizers.so inside the jar
 * is used even on CUDA machines (DJL would otherwise look for, and try to download, a CUDA flavour).
 */
final class DjlLoader {
    private DjlLoader() {}

    static synchronized HuggingFaceTokenizer load(Path json, Map<String, String> options) throws IOException {
        if (System.getProperty("RUST_FLAVOR") == null && System.getenv("RUST_FLAVOR") == null) System.setProperty("RUST_FLAVOR", "cpu");
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        try {
            return HuggingFaceTokenizer.newInstance(json, options);
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().split("\n", 2)[0];
            throw new TokenizerException(json + " could not be loaded by the Hugging Face tokenizers library: " + msg);
        }
    }
}
