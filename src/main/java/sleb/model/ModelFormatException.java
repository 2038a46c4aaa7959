package sleb.model;

/** A model file or directory that cannot be used; the message is one line saying what and what to do. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) { super(message); }
    public ModelFormatException(String message, Throwable cause) { super(message, cause); }
}
