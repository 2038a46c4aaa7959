package sleb.zeroshot;

import java.nio.file.Path;
import java.util.Locale;
import sleb.util.UsageException;

/** The zero-shot tasks: harness name, whether the harness reports acc_norm, and where the data sits under --data-dir. */
public enum Task {
    PIQA("piqa", true, "piqa/valid.jsonl"),
    ARC_EASY("arc_easy", true, "arc/ARC-Easy-Test.jsonl", "arc/ARC-Easy-Dev.jsonl"),
    ARC_CHALLENGE("arc_challenge", true, "arc/ARC-Challenge-Test.jsonl"),
    WINOGRANDE("winogrande", false, "winogrande/dev.jsonl"),
    HELLASWAG("hellaswag", true, "hellaswag/hellaswag_val.jsonl", "hellaswag/hellaswag_val_full.txt"),
    BOOLQ("boolq", false, "boolq/val.jsonl"),
    OPENBOOKQA("openbookqa", true, "openbookqa/test.jsonl");

    public final String id;
    public final boolean reportsAccNorm;
    /** Candidate files under the data directory, preferred first (the harness's split, then a stand-in). */
    final String[] defaultFiles;

    Task(String id, boolean reportsAccNorm, String... defaultFiles) {
        this.id = id;
        this.reportsAccNorm = reportsAccNorm;
        this.defaultFiles = defaultFiles;
    }

    public static Task parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Task t : values()) if (t.id.equals(n)) return t;
        StringBuilder known = new StringBuilder();
        for (Task t : values()) known.append(known.length() == 0 ? "" : ", ").append(t.id);
        throw new UsageException("unknown task '" + name + "' (known: " + known + ")");
    }

    /** The first default file that exists under dir, or the preferred one (so the error names it). */
    public Path defaultFile(Path dir) {
        for (String f : defaultFiles) {
            Path p = dir.resolve(f);
            if (java.nio.file.Files.isRegularFile(p)) return p;
        }
        return dir.resolve(defaultFiles[0]);
    }

    public java.util.List<Item> read(Path file) throws java.io.IOException {
        return switch (this) {
            case PIQA -> TaskReaders.piqa(file);
            case ARC_EASY, ARC_CHALLENGE -> TaskReaders.arc(file);
            case WINOGRANDE -> TaskReaders.winogrande(file);
            case HELLASWAG -> TaskReaders.hellaswag(file);
            case BOOLQ -> TaskReaders.boolq(file);
            case OPENBOOKQA -> TaskReaders.openbookqa(file);
        };
    }
}
