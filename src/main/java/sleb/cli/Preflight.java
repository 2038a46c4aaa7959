package sleb.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import sleb.util.UsageException;

/**
 * The one check of a command's paths before any weights are loaded, so that a long job cannot fail at the
 * end on something that was wrong at the start: every input exists and has the right type (a directory where
 * a file is expected is called a directory), every output can be created (a probe file is created and
 * deleted where the output will go), an output directory is new or empty, and no two outputs are the same
 * path or one inside the other. Each failure is one {@link UsageException} line naming the flag.
 * Use: {@code new Preflight().inputFile("--calib", calib).outputFile("--out", out).check()}.
 */
public final class Preflight {
    private final List<String> outFlags = new ArrayList<>();
    private final List<Path> outPaths = new ArrayList<>();

    /** A file to read: exists, is a regular file, is readable. */
    public Preflight inputFile(String flag, Path p) {
        if (p == null) return this;
        if (!Files.exists(p)) throw new UsageException(flag + " " + p + " does not exist");
        if (Files.isDirectory(p)) throw new UsageException(flag + " " + p + " is a directory; give a file");
        if (!Files.isReadable(p)) throw new UsageException(flag + " " + p + " is not readable (permission denied)");
        return this;
    }

    /** A file or a directory to read (a model, a tokenizer). */
    public Preflight inputPath(String flag, Path p) {
        if (p == null) return this;
        if (!Files.exists(p)) throw new UsageException(flag + " " + p + " does not exist");
        if (!Files.isReadable(p)) throw new UsageException(flag + " " + p + " is not readable (permission denied)");
        return this;
    }

    /** A file that will be written (replaced if it exists). */
    public Preflight outputFile(String flag, Path p) {
        if (p == null) return this;
        if (Files.isDirectory(p)) throw new UsageException(flag + " " + p + " is a directory; give a file name");
        probe(flag, p);
        return remember(flag, p);
    }

    /** A file that will be appended to: an existing one must be a writable file. */
    public Preflight appendFile(String flag, Path p) {
        if (p != null && Files.exists(p) && !Files.isDirectory(p) && !Files.isWritable(p))
            throw new UsageException(flag + " " + p + " is not writable (permission denied)");
        return outputFile(flag, p);
    }

    /** A directory that will be created whole: it must not exist, or be an empty directory. */
    public Preflight outputDir(String flag, Path p) {
        if (p == null) return this;
        if (Files.exists(p)) {
            if (!Files.isDirectory(p)) throw new UsageException(flag + " " + p + " exists and is not a directory");
            try (Stream<Path> s = Files.list(p)) {
                if (s.findAny().isPresent()) throw new UsageException(flag + " " + p + " exists and is not empty; remove it or choose another directory");
            } catch (IOException e) {
                throw new UsageException(flag + " " + p + " cannot be read (" + e.getMessage() + ")");
            }
        }
        probe(flag, p);
        return remember(flag, p);
    }

    /** Refuses two outputs at the same path, or one inside the other. */
    public Preflight check() {
        for (int i = 0; i < outPaths.size(); i++)
            for (int j = i + 1; j < outPaths.size(); j++) {
                Path a = outPaths.get(i), b = outPaths.get(j);
                if (a.equals(b))
                    throw new UsageException(outFlags.get(i) + " and " + outFlags.get(j) + " are the same path " + a + "; give them different paths");
                if (a.startsWith(b) || b.startsWith(a)) {
                    boolean aIn = a.startsWith(b);
                    throw new UsageException((aIn ? outFlags.get(i) : outFlags.get(j)) + " " + (aIn ? a : b) + " is inside "
                            + (aIn ? outFlags.get(j) : outFlags.get(i)) + " " + (aIn ? b : a) + "; give paths outside each other");
                }
            }
        return this;
    }

    private Preflight remember(String flag, Path p) {
        outFlags.add(flag);
        outPaths.add(p.toAbsolutePath().normalize());
        return this;
    }

    /**
     * Creates and deletes a file where p will be written: in p's parent, or in the nearest existing ancestor when
     * the parent directories are still to be created.
     */
    private static void probe(String flag, Path p) {
        Path parent = p.toAbsolutePath().normalize().getParent();
        Path dir = parent;
        while (dir != null && !Files.exists(dir)) dir = dir.getParent();
        if (dir == null) throw new UsageException(flag + " " + p + ": no existing directory above it");
        if (!Files.isDirectory(dir)) throw new UsageException(flag + " " + p + " cannot be created: " + dir + " is a file, not a directory");
        try {
            Path t = Files.createTempFile(dir, ".sleb-probe-", ".tmp");
            Files.delete(t);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage();
            throw new UsageException(flag + " " + p + " cannot be written: creating a file in " + dir + " failed (" + why + ")");
        }
    }
}
