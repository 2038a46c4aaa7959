package sleb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testng.SkipException;

/**
 * Runs llama.cpp's prebuilt tools from the shared root (tools/llama.cpp/bin, see its README.md) so tests can compare
 * SLEB-J with llama.cpp live; skips, saying so, where they are absent.
 */
public final class LlamaCppTools {
    private LlamaCppTools() {}

    public static Path bin(String tool) {
        Path p = SharedData.require("tools/llama.cpp/bin").resolve(tool);
        if (!Files.isExecutable(p)) throw new SkipException("skipped: needs the executable " + p);
        return p;
    }

    /** Runs a tool, stdout and stderr together; fails the test on a non-zero exit or after {@code timeoutS}. */
    public static String run(long timeoutS, String tool, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin(tool).toString());
        cmd.addAll(Arrays.asList(args));
        Path log = Files.createTempFile("sleb-llamacpp", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " ran past " + timeoutS + " s");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** llama.cpp's own conversion of a llama2.c checkpoint and tokenizer to an f32 GGUF in {@code dir}. */
    public static Path convertLlama2c(Path checkpoint, Path tokenizer, Path dir) throws IOException, InterruptedException {
        Path gguf = dir.resolve(checkpoint.getFileName().toString().replace(".bin", "") + ".gguf");
        run(120, "llama-convert-llama2c-to-ggml", "--copy-vocab-from-model", tokenizer.toString(),
                "--llama2c-model", checkpoint.toString(), "--llama2c-output-model", gguf.toString());
        if (!Files.isRegularFile(gguf)) throw new AssertionError("the converter wrote no " + gguf);
        return gguf;
    }

    /** The ids {@code llama-tokenize --ids} prints for the text of {@code file} (BOS first where the vocabulary adds it). */
    public static int[] tokenize(Path gguf, Path file) throws IOException, InterruptedException {
        String out = run(120, "llama-tokenize", "-m", gguf.toString(), "-f", file.toString(), "--ids", "--log-disable").strip();
        int a = out.lastIndexOf('['), b = out.lastIndexOf(']');
        if (a < 0 || b < a) throw new AssertionError("llama-tokenize printed no id list: " + out);
        String body = out.substring(a + 1, b).strip();
        if (body.isEmpty()) return new int[0];
        return Arrays.stream(body.split(",\\s*")).mapToInt(Integer::parseInt).toArray();
    }

    /** The first match of {@code regex} in {@code out}, group 1..n; fails the test naming what was missing. */
    public static String[] find(String out, String regex, String what) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) throw new AssertionError("no " + what + " in llama.cpp's output:\n" + out);
        String[] g = new String[m.groupCount()];
        for (int i = 0; i < g.length; i++) g[i] = m.group(i + 1);
        return g;
    }
}
