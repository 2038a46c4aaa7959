package sleb.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.util.AtomicFiles;
import sleb.util.Json;
import sleb.util.SettingsDiff;
import sleb.util.UsageException;

/**
 * The results file of `sleb eval` and `sleb zeroshot`, which doubles as its resume state: the settings
 * that define the run, the finished rows (one per dataset or task, keyed by {@code key}), and for eval the
 * running NLL total of the dataset in progress. Always written atomically.
 */
final class ResultsFile {
    String status = "running";
    Map<String, Object> settings = new LinkedHashMap<>();
    String backend;
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, Object> partial;
    Map<String, Object> mean;
    private transient String key = "dataset";

    ResultsFile keyedBy(String rowKey) {
        key = rowKey;
        return this;
    }

    static ResultsFile resume(Path out, ResultsFile fresh) throws IOException {
        if (!Files.isRegularFile(out)) throw new UsageException("--resume: " + out + " does not exist; there is no run to continue");
        ResultsFile old;
        try {
            old = Json.GSON.fromJson(Files.readString(out), ResultsFile.class);
        } catch (RuntimeException e) {
            throw new UsageException("--resume: " + out + " is not a sleb results file (" + e.getMessage() + ")");
        }
        if (old == null || old.settings == null) throw new UsageException("--resume: " + out + " is not a sleb results file");
        SettingsDiff.Change c = SettingsDiff.first(old.settings, fresh.settings);
        if (c != null)
            throw new UsageException("--resume: " + c.key() + (c.now() == null ? " was set in the run in " + out + " but not now; start a new run"
                    : " differs from the run in " + out + " (" + c.recorded() + " there, " + c.now() + " now); start a new run or restore it"));
        if (old.results == null) old.results = new ArrayList<>();
        old.status = "running";
        return old.keyedBy(fresh.key);
    }

    /** The finished row for this dataset or task, or null. */
    Map<String, Object> row(String name) {
        for (Map<String, Object> r : results) if (name.equals(r.get(key))) return r;
        return null;
    }

    int partialWindows(String dataset) {
        return partial != null && dataset.equals(partial.get("dataset")) ? ((Number) partial.get("windows_done")).intValue() : 0;
    }

    double partialNll(String dataset) {
        return partial != null && dataset.equals(partial.get("dataset")) ? ((Number) partial.get("nll")).doubleValue() : 0;
    }

    /** The running sum of squared NLL (eval --protocol llamacpp, for llama.cpp's +/-). */
    double partialNll2(String dataset) {
        return partial != null && dataset.equals(partial.get("dataset")) && partial.get("nll2") != null
                ? ((Number) partial.get("nll2")).doubleValue() : 0;
    }

    void savePartial(Path out, String dataset, int windowsDone, double nll) throws IOException {
        partial = new LinkedHashMap<>();
        partial.put("dataset", dataset);
        partial.put("windows_done", windowsDone);
        partial.put("nll", nll);
        save(out);
    }

    void savePartial(Path out, String dataset, int chunksDone, double nll, double nll2) throws IOException {
        partial = new LinkedHashMap<>();
        partial.put("dataset", dataset);
        partial.put("windows_done", chunksDone);
        partial.put("nll", nll);
        partial.put("nll2", nll2);
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
