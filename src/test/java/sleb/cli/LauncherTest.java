package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.testng.SkipException;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/**
 * bin/sleb as a user runs it, in a child process (the launcher, then a JVM on this build's classes through
 * SLEB_CLASSPATH): paths in any locale, and defaults that do not depend on the working directory.
 */
public class LauncherTest {
    private static Path launcher() {
        Path l = Path.of("bin", "sleb").toAbsolutePath();
        if (!Files.isRegularFile(l)) throw new SkipException("skipped: needs bin/sleb (run from the project root)");
        return l;
    }

    private static Process start(Path cwd, Map<String, String> env, List<String> args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", launcher().toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG") || k.equals("LANGUAGE"));
        pb.environment().put("SLEB_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("SLEB_JAVA_OPTS", "-Xmx256m");
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Under LC_ALL=C, a model, a text and an output in a directory named with non-ASCII letters work, from another directory. */
    @Test
    public void nonAsciiPathsWorkUnderLcAllC() throws Exception {
        Path model = SharedData.require("models/stories260K/stories260K.bin");
        Path dir = Files.createDirectories(Files.createTempDirectory("launch").resolve("données-ü"));
        Files.createSymbolicLink(dir.resolve("stories260K.bin"), model);
        Files.createSymbolicLink(dir.resolve("tok512.bin"), model.resolveSibling("tok512.bin"));
        Path text = Files.writeString(dir.resolve("täxt.txt"), "Once upon a time, there was a little dog.", StandardCharsets.UTF_8);
        Path out = dir.resolve("ids-é.bin");
        Process p = start(Path.of(System.getProperty("java.io.tmpdir")), Map.of("LC_ALL", "C"),
                List.of("tokenize", "--model", dir.resolve("stories260K.bin").toString(), "--data", "x=" + text, "--no-bos", "--out", out.toString()));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "launcher did not finish");
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(p.exitValue(), 0, log);
        // the same ids as the in-process run, which has a UTF-8 file-name charset
        Path ref = Files.createTempDirectory("launch-ref").resolve("ids.bin");
        CliRun r = CliRun.run("tokenize", "--model", model.toString(), "--data", "x=" + text, "--no-bos", "--out", ref.toString());
        assertEquals(r.code, 0, r.err);
        assertEquals(Files.readAllBytes(out), Files.readAllBytes(ref));
        assertTrue(Files.size(out) >= 8, log);
    }

    /**
     * zeroshot's default data directory is ../shared/data/zeroshot beside the installation, not beside the
     * working directory: an installation without one says so with its absolute path.
     */
    @Test
    public void zeroshotDefaultDataDirIsBesideTheInstallation() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        Path root = Files.createTempDirectory("install");
        Path home = Files.createDirectories(root.resolve("sleb"));
        String old = System.getProperty("sleb.home");
        try {
            System.setProperty("sleb.home", home.toString());
            CliRun r = CliRun.run("zeroshot", "--model", model, "--tasks", "piqa", "--device", "cpu");
            r.assertErrorLine("no data beside the installation", "task file for piqa not found: " + root.resolve("shared/data/zeroshot/piqa"));
            Path data = SharedData.require("data/zeroshot");
            Files.createDirectories(root.resolve("shared/data"));
            Files.createSymbolicLink(root.resolve("shared/data/zeroshot"), data);
            CliRun ok = CliRun.run("zeroshot", "--model", model, "--tasks", "piqa", "--limit", "2", "--device", "cpu", "--quiet");
            assertEquals(ok.code, 0, ok.err);
            assertTrue(ok.out.contains("piqa: acc "), ok.out);
        } finally {
            if (old == null) System.clearProperty("sleb.home");
            else System.setProperty("sleb.home", old);
        }
    }
}
