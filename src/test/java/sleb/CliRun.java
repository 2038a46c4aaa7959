package sleb;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import sleb.cli.Main;
import sleb.util.Progress;

/** Runs the command line in-process and captures what it printed, for tests of exit codes and messages. */
public final class CliRun {
    public int code;
    public String out, err;

    private CliRun() {}

    /** One run at a time: System.out/err are process-wide. Progress bars are off so stderr holds only messages. */
    public static synchronized CliRun run(String... args) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        CliRun r = new CliRun();
        try {
            Progress.setQuiet(true);
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            r.code = Main.execute(args);
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
            Progress.setQuiet(Boolean.getBoolean("sleb.quiet"));
        }
        r.out = out.toString(StandardCharsets.UTF_8);
        r.err = err.toString(StandardCharsets.UTF_8);
        return r;
    }

    /** a followed by b: a command line with more flags. */
    public static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The run failed as a user error: exit code 2, and its last stderr line is "sleb: error: ..." mentioning {@code mentions}. */
    public void assertErrorLine(String what, String mentions) {
        org.testng.Assert.assertEquals(code, 2, what + ": " + err);
        String[] lines = err.strip().split("\n");
        String last = lines[lines.length - 1];
        org.testng.Assert.assertTrue(last.startsWith("sleb: error: ") && last.contains(mentions), what + ": " + err);
    }
}
