package sleb.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import sleb.model.DType;
import sleb.model.HfConfig;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.SyntheticModel;
import sleb.util.UsageException;

/**
 * Synthetic model shapes: the named ones (models/NAME/config.json at the repository root, also packaged
 * in the jar) or any config.json, optionally with fewer blocks.
 */
public final class Shapes {
    public static final List<String> NAMES = List.of("llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "mistral-7b",
            "tinyllama-1.1b", "stories110m", "opt-6.7b", "opt-13b", "opt-30b", "opt-66b");

    private Shapes() {}

    /** The config of a named shape or of a config.json (or a directory holding one); layers overrides the block count when given. */
    public static ModelConfig config(String shape, Integer layers) throws IOException {
        ModelConfig c;
        if (NAMES.contains(shape)) {
            c = named(shape);
        } else {
            Path p = Path.of(shape);
            if (Files.isDirectory(p)) p = p.resolve("config.json");
            if (!Files.isRegularFile(p))
                throw new UsageException("--synthetic " + shape + " is neither a named shape (" + String.join(", ", NAMES) + ") nor a config.json file or directory");
            c = HfConfig.read(p);
        }
        if (layers != null) {
            if (layers < 1) throw new UsageException("--layers must be at least 1");
            c = c.withLayers(layers);
        }
        return c;
    }

    private static ModelConfig named(String name) throws IOException {
        String home = System.getProperty("sleb.home");
        if (home != null) {
            Path p = Path.of(home, "models", name, "config.json");
            if (Files.isRegularFile(p)) return HfConfig.read(p);
        }
        String res = "/models/" + name + "/config.json";
        try (InputStream in = Shapes.class.getResourceAsStream(res)) {
            if (in == null) throw new IllegalStateException("resource " + res + " is missing from the build");
            return HfConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), Path.of("jar:" + res));
        }
    }

    /** Bytes of all weights of the shape in dtype. */
    public static long weightBytes(ModelConfig c, DType dtype) { return c.totalParams() * dtype.bytes; }

    /** Refuses, with one line, when {@code needed} bytes will not fit in the Java heap. */
    public static void checkHeap(long needed, String what) {
        long max = Runtime.getRuntime().maxMemory();
        if (needed > max)
            throw new UsageException(String.format("%s needs about %.2f GiB of Java heap but the heap holds %.2f GiB (Runtime.maxMemory); "
                    + "use --layers N, --dtype bf16 or a smaller shape, or raise the heap, e.g. SLEB_JAVA_OPTS=-Xmx%dg",
                    what, needed / 1073741824.0, max / 1073741824.0, (long) Math.ceil(needed * 1.25 / 1073741824.0)));
    }

    /**
     * A synthetic model with seeded random weights. {@code copies} is how many times the weights will be
     * held at once (1 to write them out, 2 when a CPU backend copies them onto the heap as well);
     * {@code extraBytes} adds what else the caller will allocate (activations, KV caches).
     */
    public static Model create(ModelConfig c, DType dtype, long seed, int copies, long extraBytes) {
        long largest = (long) c.vocabSize * c.embedDim() * 4; // one fp32 staging array of the largest tensor
        long needed = copies * weightBytes(c, dtype) + largest + extraBytes;
        checkHeap(needed, String.format("the synthetic model (%.1f M parameters, %s)", c.totalParams() / 1e6, dtype.name().toLowerCase()));
        return SyntheticModel.create(c, dtype, seed);
    }

    public static DType parseDtype(String s) {
        switch (s.toLowerCase()) {
            case "f32": case "fp32": case "float32": return DType.F32;
            case "bf16": case "bfloat16": return DType.BF16;
            case "f16": case "fp16": case "float16": return DType.F16;
            default: throw new UsageException("--dtype " + s + " is not one of f32, bf16, f16");
        }
    }
}
