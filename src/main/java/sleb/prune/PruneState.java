package sleb.prune;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sleb.util.AtomicFiles;
import sleb.util.Json;

/**
 * Everything a prune run has decided so far; it is run.json. Written atomically after every candidate and
 * every phase, so {@code --resume} can pick up after a kill at any moment. Doubles are written by Gson with
 * Double.toString, which reads back to the same bits.
 */
public final class PruneState {
    public String tool = "SLEB-J 0.1.0";
    /** "selecting" while phases run, "selected" when the removal order is final, "done" when evals/export finished. */
    public String status = "selecting";
    public Map<String, Object> model = new LinkedHashMap<>();
    public Map<String, Object> settings = new LinkedHashMap<>();
    public Map<String, Object> calibration = new LinkedHashMap<>();
    public Map<String, Object> cache = new LinkedHashMap<>();
    public List<Phase> phases = new ArrayList<>();
    public List<Integer> removal_order = new ArrayList<>();
    public List<Integer> kept_blocks;
    public long block_evals;
    public long official_block_evals;
    public String block_evals_unit = "one block over one calibration window";
    public double selection_seconds;
    public int resumes;
    public Map<String, Object> eval_dense;
    public Map<String, Object> eval_pruned;
    public Map<String, Object> zeroshot_dense;
    public Map<String, Object> zeroshot_pruned;
    public String chart;
    public String export;

    public static final class Phase {
        public int phase;
        /** Alive blocks (original indices) when the phase began. */
        public List<Integer> alive = new ArrayList<>();
        public List<Candidate> candidates = new ArrayList<>();
        public boolean complete;
        public Integer selected;
        public Double selected_score;
        public Integer runner_up;
        public Double runner_up_score;
        public double seconds;
        public long block_evals;
        public long official_block_evals;
    }

    public static final class Candidate {
        public int block;
        /** Position among the alive blocks of the phase. */
        public int position;
        /** sleb/oneshot: summed NLL over all calibration windows (positions 1..seqlen-1) with the block skipped. */
        public Double loss;
        /** cosine: mean cos(input, output) of the block over all calibration tokens. */
        public Double cosine;

        public double score() { return loss != null ? loss : cosine; }
    }

    public static PruneState read(Path p) throws IOException {
        try {
            PruneState s = Json.GSON.fromJson(Files.readString(p, StandardCharsets.UTF_8), PruneState.class);
            if (s == null) throw new IOException("empty");
            return s;
        } catch (RuntimeException e) {
            throw new sleb.util.UsageException(p + " is not a SLEB-J run file (" + e.getMessage() + "); cannot --resume from it");
        }
    }

    public synchronized void save(Path p) throws IOException {
        AtomicFiles.writeString(p, Json.GSON.toJson(this) + "\n");
    }
}
