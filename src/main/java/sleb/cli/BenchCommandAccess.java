package sleb.cli;

import java.util.List;
import picocli.CommandLine;

/** Test access to the flag checks of {@link BenchCommand} (package-private there). */
public final class BenchCommandAccess {
    private BenchCommandAccess() {}

    public static List<Integer> removed(int layers, List<Integer> remove, Double ratio) { return BenchCommand.removed(layers, remove, ratio); }

    public static void plan(String... args) { parse(args).plan(); }

    /** {batch, prompt-len, gen-len, iters} after defaults. */
    public static int[] planNumbers(String... args) {
        BenchCommand.Plan p = parse(args).plan();
        return new int[] {p.batch, p.promptLen, p.genLen, p.iters};
    }

    private static BenchCommand parse(String... args) {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }
}
