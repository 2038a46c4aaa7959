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

    static HuggingFaceTokenizer load(Path json, Map<String, String> options) throws IOException {
        return load(json.toString(), () -> HuggingFaceTokenizer.newInstance(json, options));
    }

    /** A tokenizer.json document held in memory; {@code label} names its source in errors. */
    static HuggingFaceTokenizer load(String label, String document, Map<String, String> options) throws IOException {
        byte[] bytes = document.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return load(label, () -> HuggingFaceTokenizer.newInstance(new java.io.ByteArrayInputStream(bytes), options));
    }

    private interface Make {
        HuggingFaceTokenizer make() throws IOException;
    }

    private static synchronized HuggingFaceTokenizer load(String label, Make make) throws IOException {
        if (System.getProperty("RUST_FLAVOR") == null && System.getenv("RUST_FLAVOR") == null) System.setProperty("RUST_FLAVOR", "cpu");
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        try {
            return make.make();
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().split("\n", 2)[0];
            throw new TokenizerException(label + " could not be loaded by the Hugging Face tokenizers library: " + msg);
        }
    }
}
