package sleb.reproduce;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a cell is done, begun or not begun, read from its command's own results file (all of which are written
 * atomically): prune's run.json once its status is "selected" or "done", eval's and zeroshot's once "done", a
 * bench file as soon as it exists (bench writes it once, at the end).
 */
public enum CellStatus {
    NOT_STARTED, PARTIAL, DONE;

    public static CellStatus of(Cell c) throws IOException {
        if (!Files.isRegularFile(c.out())) return NOT_STARTED;
        if (c.kind() == Cell.Kind.BENCH_PROMPT || c.kind() == Cell.Kind.BENCH_GENERATE) return DONE;
        String status = read(c.out()).get("status").getAsString();
        boolean done = c.kind() == Cell.Kind.PRUNE ? status.equals("selected") || status.equals("done") : status.equals("done");
        return done ? DONE : PARTIAL;
    }

    /** A results file as JSON; a file that is not one is a user-facing error naming it. */
    static JsonObject read(Path p) throws IOException {
        try {
            JsonObject o = JsonParser.parseString(Files.readString(p)).getAsJsonObject();
            if (!o.has("status") && !o.has("results")) throw new IllegalStateException("no status");
            return o;
        } catch (RuntimeException e) {
            throw new sleb.util.UsageException(p + " is not a sleb results file (" + e.getMessage() + "); remove it to run that cell again");
        }
    }
}
