package sleb.util;

/** A request the tool cannot carry out as given (bad flag, too little data); one line says what to do. */
public class UsageException extends RuntimeException {
    public UsageException(String message) { super(message); }
}
