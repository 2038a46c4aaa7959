package sleb.cli;

import java.io.IOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import sleb.model.ModelFormatException;
import sleb.tokenizer.TokenizerException;
import sleb.util.UsageException;

/** sleb: the command-line entry point. Every failure the user can fix ends in one line and exit code 2. */
@Command(name = "sleb", mixinStandardHelpOptions = true, version = "SLEB-J 0.1.0",
        description = "Remove transformer blocks from LLaMA-family models with SLEB, and measure the result.",
        subcommands = {PruneCommand.class, ExportCommand.class, EvalCommand.class, ZeroShotCommand.class, BenchCommand.class,
                SynthCommand.class, InfoCommand.class, GenerateCommand.class, TokenizeCommand.class, ReproduceCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** No command: the usage goes to stderr and the exit code is 2, as for any other incomplete command line. */
    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return 2;
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("sleb: error: " + parameterMessage(ex));
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String msg = userMessage(ex);
            if (msg != null) {
                System.err.println("sleb: error: " + msg);
                return 2;
            }
            System.err.println("sleb: internal error: " + ex);
            ex.printStackTrace();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) { // picocli hands Errors through; say what to do instead of a stack trace
            System.err.println("sleb: error: " + userMessage(e));
            return 2;
        }
    }

    /** A bad command line in one line: what is wrong, the closest valid option if any, and where the flags are listed. */
    static String parameterMessage(CommandLine.ParameterException ex) {
        StringBuilder m = new StringBuilder(ex.getMessage().replace('\n', ' ').trim());
        if (ex instanceof CommandLine.UnmatchedArgumentException) {
            java.util.List<String> near = ((CommandLine.UnmatchedArgumentException) ex).getSuggestions();
            if (!near.isEmpty()) m.append(" (did you mean ").append(String.join(" or ", near.subList(0, Math.min(3, near.size())))).append("?)");
        }
        String cmd = ex.getCommandLine().getCommandName();
        m.append("; see 'sleb").append("sleb".equals(cmd) ? "" : " " + cmd).append(" --help'");
        return m.toString();
    }

    /** The one-line message for errors the user can act on; null for bugs. */
    static String userMessage(Throwable ex) {
        if (ex instanceof UsageException || ex instanceof ModelFormatException || ex instanceof TokenizerException) return ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException) return "file not found: " + ex.getMessage();
        if (ex instanceof java.nio.file.AccessDeniedException) return "permission denied: " + ex.getMessage();
        if (ex instanceof IOException) return "I/O error: " + ex.getMessage();
        if (ex instanceof OutOfMemoryError)
            return "out of memory (Java heap). Raise it, e.g. SLEB_JAVA_OPTS=-Xmx20g, or use a smaller --batch/--seqlen";
        return null;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
