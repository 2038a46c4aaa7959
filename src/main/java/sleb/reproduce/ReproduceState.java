package sleb.reproduce;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sleb.util.AtomicFiles;
import sleb.util.Json;
import sleb.util.SettingsDiff;
import sleb.util.UsageException;

/**
 * DIR/reproduce.json: the settings of the reproduction in DIR (a rerun with other settings is refused, naming the
 * first that changed) and how long each finished cell took (the ETA's measured rate). The cells' results live in
 * their own files; this file only records, so a kill between a cell's results and this file loses a timing, never
 * a result. Written atomically.
 */
public final class ReproduceState {
    public String tool = "SLEB-J 0.1.0";
    public String status = "running";
    public Map<String, Object> settings = new LinkedHashMap<>();
    /** Seconds per work unit of the probe forward ({@link CostEstimate}), and the seconds its model took to load. */
    public double probe_seconds_per_unit;
    public double probe_load_seconds;
    /** Cell id → {seconds taken, seconds the probe estimated} for cells finished by a run of this command. */
    public Map<String, Map<String, Double>> cells = new LinkedHashMap<>();

    public static final String FILE = "reproduce.json";

    /**
     * The state of DIR for these settings: a new one when DIR is new or empty; the recorded one when its settings are
     * the same; refused when they differ or when DIR holds something else.
     */
    public static ReproduceState open(Path dir, Map<String, Object> settings) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            if (Files.isDirectory(dir))
                try (var s = Files.list(dir)) {
                    if (s.findAny().isPresent())
                        throw new UsageException("--out " + dir + " is not empty and holds no " + FILE + "; give a new or empty directory, or the directory of an earlier `sleb reproduce`");
                }
            ReproduceState st = new ReproduceState();
            st.settings = settings;
            return st;
        }
        ReproduceState old;
        try {
            old = Json.GSON.fromJson(Files.readString(f), ReproduceState.class);
        } catch (RuntimeException e) {
            throw new UsageException(f + " is not a sleb reproduce state file (" + e.getMessage() + ")");
        }
        if (old == null || old.settings == null) throw new UsageException(f + " is not a sleb reproduce state file");
        SettingsDiff.Change c = SettingsDiff.first(old.settings, settings);
        if (c != null)
            throw new UsageException(c.key() + " differs from the reproduction in " + dir + " (" + c.recorded() + " there, " + (c.now() == null ? "not set" : c.now())
                    + " now); give the same settings to continue it, or a new --out");
        if (old.cells == null) old.cells = new LinkedHashMap<>();
        old.status = "running";
        return old;
    }

    public void cellDone(String id, double seconds, double estimate) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("seconds", seconds);
        m.put("estimate", estimate);
        cells.put(id, m);
    }

    /** Whether a probe has measured this machine yet. */
    public boolean probed() { return probe_seconds_per_unit > 0; }

    /**
     * A cell's time: loading the model once plus its work at the probe's rate, scaled by how the cells timed so far
     * compared with their own estimates (1 before any is timed).
     */
    public double estimateSeconds(Cell c) {
        return probeEstimate(c) * correction();
    }

    /** The estimate from the probe alone: one model load plus the cell's units at the probe's rate. */
    public double probeEstimate(Cell c) {
        return probe_load_seconds + c.units() * probe_seconds_per_unit;
    }

    private double correction() {
        double taken = 0, estimated = 0;
        for (Map<String, Double> m : cells.values()) {
            taken += m.get("seconds");
            estimated += m.getOrDefault("estimate", 0.0);
        }
        return taken > 0 && estimated > 0 ? taken / estimated : 1;
    }

    public void save(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve(FILE), Json.GSON.toJson(this) + "\n");
    }
}
