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
        return results(c.out(), c.kind()) != null ? DONE : PARTIAL;
    }

    /** The results file of a cell of this kind once the cell is done, else null (absent or begun). */
    public static JsonObject results(Path f, Cell.Kind kind) throws IOException {
        if (!Files.isRegularFile(f)) return null;
        JsonObject o = read(f);
        if (kind == Cell.Kind.BENCH_PROMPT || kind == Cell.Kind.BENCH_GENERATE) return o;
        String status = o.get("status").getAsString();
        boolean done = kind == Cell.Kind.PRUNE ? status.equals("selected") || status.equals("done") : status.equals("done");
        return done ? o : null;
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
