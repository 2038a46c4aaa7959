package sleb.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import sleb.util.AtomicFiles;

/**
 * Appends a table row to docs/benchmarks.md: the row goes just before the marker comment
 * {@code <!-- rows:KEY -->} that ends the table of its section, so older rows stay as they are.
 */
public final class BenchDocs {
    private BenchDocs() {}

    public static void appendRow(Path md, String key, String header, String row) throws IOException {
        String marker = "<!-- rows:" + key + " -->";
        String text = Files.isRegularFile(md) ? Files.readString(md, StandardCharsets.UTF_8) : "# Benchmarks\n";
        int at = text.indexOf(marker);
        if (at < 0) {
            if (!text.endsWith("\n")) text += "\n";
            text += "\n## " + key + "\n\n" + header + "\n" + marker + "\n";
            at = text.indexOf(marker);
        }
        text = text.substring(0, at) + row + "\n" + text.substring(at);
        AtomicFiles.writeString(md, text);
    }

    /** The 1-minute load average (other jobs on the machine), or NaN where unreadable. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** The CPU model name as lscpu prints it (from /proc/cpuinfo), or os.arch where that is unreadable. */
    public static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }
}
