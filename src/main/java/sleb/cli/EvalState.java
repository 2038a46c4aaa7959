package sleb.cli;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.util.AtomicFiles;
import sleb.util.Json;
import sleb.util.UsageException;

/**
 * The results file of `sleb eval`, which doubles as its resume state: the settings that define the run,
 * finished datasets, and the running NLL total of the dataset in progress. Always written atomically.
 */
final class EvalState {
    String status = "running";
    Map<String, Object> settings = new LinkedHashMap<>();
    String backend;
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, Object> partial;

    static EvalState resume(Path out, EvalState fresh) throws IOException {
        if (!Files.isRegularFile(out)) throw new UsageException("--resume: " + out + " does not exist; there is no run to continue");
        EvalState old;
        try {
            old = Json.GSON.fromJson(Files.readString(out), EvalState.class);
        } catch (RuntimeException e) {
            throw new UsageException("--resume: " + out + " is not a sleb eval results file (" + e.getMessage() + ")");
        }
        if (old == null || old.settings == null) throw new UsageException("--resume: " + out + " is not a sleb eval results file");
        for (Map.Entry<String, Object> e : fresh.settings.entrySet()) {
            // compare as JSON so numbers read back as doubles equal the ints they were written from
            String a = Json.GSON.toJson(e.getValue()), b = Json.GSON.toJson(old.settings.get(e.getKey()));
            if (!JsonParser.parseString(a).equals(JsonParser.parseString(b)))
                throw new UsageException("--resume: " + e.getKey() + " differs from the run in " + out + " (" + b + " there, " + a + " now); start a new run or restore it");
        }
        if (old.results == null) old.results = new ArrayList<>();
        old.status = "running";
        return old;
    }

    boolean done(String dataset) {
        for (Map<String, Object> r : results) if (dataset.equals(r.get("dataset"))) return true;
        return false;
    }

    Object ppl(String dataset) {
        for (Map<String, Object> r : results) if (dataset.equals(r.get("dataset"))) return r.get("ppl");
        return null;
    }

    int partialWindows(String dataset) {
        return partial != null && dataset.equals(partial.get("dataset")) ? ((Number) partial.get("windows_done")).intValue() : 0;
    }

    double partialNll(String dataset) {
        return partial != null && dataset.equals(partial.get("dataset")) ? ((Number) partial.get("nll")).doubleValue() : 0;
    }

    void savePartial(Path out, String dataset, int windowsDone, double nll) throws IOException {
        partial = new LinkedHashMap<>();
        partial.put("dataset", dataset);
        partial.put("windows_done", windowsDone);
        partial.put("nll", nll);
        save(out);
    }

    void finish(Map<String, Object> row) {
        results.add(row);
        partial = null;
    }

    void save(Path out) throws IOException {
        AtomicFiles.writeString(out, Json.GSON.toJson(this) + "\n");
    }
}
