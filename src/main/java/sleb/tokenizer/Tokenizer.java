package sleb.tokenizer;

/** Text to token ids and back. Implementations are immutable and thread-safe. */
public interface Tokenizer {
    /** Token ids of text, without BOS. */
    int[] encode(String text);

    /** Text of one token, as it should be printed after {@code previous} (handles the leading space of a first piece). */
    String decode(int previous, int token);

    int vocabSize();

    /** The BOS token's id, or -1 when the tokenizer has none (Qwen2 style: bos_token null in tokenizer_config.json). */
    int bosId();

    /** Whether there is a BOS token inside the vocabulary. */
    default boolean hasBos() { return bosId() >= 0 && bosId() < vocabSize(); }

    int eosId();

    /** Whether this tokenizer's own configuration adds BOS at the start of a text. */
    boolean addsBosByDefault();

    /** Short description for logs: kind and vocabulary size. */
    String describe();

    default String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        int prev = bosId();
        for (int id : ids) {
            sb.append(decode(prev, id));
            prev = id;
        }
        return sb.toString();
    }
}
