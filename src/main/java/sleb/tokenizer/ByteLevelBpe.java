package sleb.tokenizer;

/** Byte-level BPE from a GGUF "gpt2" vocabulary. */
final class ByteLevelBpe {
    private ByteLevelBpe() {}

    static Tokenizer fromGguf(GgufVocab v, String describe) {
        throw new TokenizerException(describe + ": 'gpt2' GGUF vocabularies cannot be read yet; pass --tokenizer with the model's tokenizer file");
    }
}
