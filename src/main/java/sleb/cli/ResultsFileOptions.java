package sleb.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import sleb.util.UsageException;

/** --out and --resume of `sleb eval` and `sleb zeroshot`: where the {@link ResultsFile} goes and whether to continue it. */
final class ResultsFileOptions {
    @Option(names = "--out", paramLabel = "FILE", description = "write the results as JSON, saved as the run goes so --resume can continue it")
    Path out;

    @Option(names = "--resume", description = "continue an interrupted run from its --out file (refused if the model or settings changed): finished rows are kept, the rest run")
    boolean resume;

    void check() {
        if (resume && out == null) throw new UsageException("--resume needs --out FILE, the file of the run to continue");
    }

    /** Adds --out to the checks made before loading: a file that can be written (with --resume, the run's file). */
    Preflight checkOutput(Preflight p) {
        p.outputFile("--out", out);
        if (resume && !java.nio.file.Files.isRegularFile(out))
            throw new UsageException("--resume: " + out + " does not exist; there is no run to continue");
        return p;
    }

    /** The run to continue when --resume is given (its settings checked against fresh's), else fresh. */
    ResultsFile open(ResultsFile fresh) throws IOException {
        return resume ? ResultsFile.resume(out, fresh) : fresh;
    }

    void save(ResultsFile st) throws IOException {
        if (out != null) st.save(out);
    }
}
