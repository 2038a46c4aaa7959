package sleb;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.testng.SkipException;

/** Finds public models and data under one root (-Dsleb.shared, default ../shared); skips tests, saying why, where absent. */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        return Paths.get(System.getProperty("sleb.shared", "../shared")).toAbsolutePath().normalize();
    }

    /** The path under the root, without checking it (for data providers: a SkipException there counts as a failure). */
    public static Path path(String relative) { return root().resolve(relative); }

    public static Path require(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) throw new SkipException("skipped: needs " + p + " (set -Dsleb.shared to the shared data root)");
        return p;
    }
}
