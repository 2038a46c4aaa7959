package sleb.tokenizer;

import java.nio.file.Path;
import java.util.Set;

/**
 * GPT-2's byte-level alphabet (bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other bytes map to
 * U+0100 upwards, in byte order) and the tokenizer.ggml.pre names SLEB-J accepts for "gpt2" GGUF vocabularies.
 */
public final class ByteLevelPreTokenizer {
    /** llama.cpp's names for LLaMA-3's pre-tokenizer (llama-vocab.cpp LLAMA_VOCAB_PRE_TYPE_LLAMA3) and GPT-2's. */
    static final Set<String> LLAMA3 = Set.of("llama-bpe", "llama3", "llama-v3"), GPT2 = Set.of("gpt-2", "gpt2");
    private static final char[] BYTE_TO_CHAR = new char[256];
    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
        }
    }

    private ByteLevelPreTokenizer() {}

    /** The bytes written in GPT-2's byte-level alphabet. */
    public static String toUnicode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xff]);
        return sb.toString();
    }

    /** Refuses a tokenizer.ggml.pre SLEB-J cannot reproduce, naming it. */
    static void check(String pre, Path file) {
        if (!LLAMA3.contains(pre) && !GPT2.contains(pre))
            throw new TokenizerException(file + ": tokenizer.ggml.pre '" + pre + "' is not supported; SLEB-J reproduces 'llama-bpe' (LLaMA-3) and 'gpt-2' pre-tokenizers");
    }
}
