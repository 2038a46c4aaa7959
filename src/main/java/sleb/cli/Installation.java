package sleb.cli;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * Where sleb is installed, so that default paths do not depend on the working directory. The launcher passes
 * it as -Dsleb.home (bin/..); without it, the directory two levels above the jar or classes directory
 * (target/sleb-j.jar, target/classes and a dist's lib/sleb-j.jar all sit there). As a last resort, the
 * working directory.
 */
public final class Installation {
    private Installation() {}

    public static Path home() {
        String h = System.getProperty("sleb.home");
        if (h != null && !h.isBlank()) return Path.of(h).toAbsolutePath().normalize();
        try {
            Path code = Path.of(Installation.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path up = code.getParent() == null ? null : code.getParent().getParent();
            if (up != null) return up.normalize();
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of("").toAbsolutePath();
    }

    /** The default zero-shot data directory: ../shared/data/zeroshot beside the installation. */
    public static Path zeroshotDir() {
        return home().resolve("../shared/data/zeroshot").normalize();
    }
}
