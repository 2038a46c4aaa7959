package sleb.tokenizer;

/** A tokenizer file that cannot be used; the message is one line saying what and what to do. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) { super(message); }
}
