package sleb.util;

import java.nio.file.Path;

/** Names of files written beside another output. */
public final class OutputPaths {
    private OutputPaths() {}

    /** The chart beside a results file: run.json gives run.png, any other name gets .png appended. */
    public static Path pngBeside(Path json) {
        String name = json.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return json.resolveSibling(base + ".png");
    }
}
