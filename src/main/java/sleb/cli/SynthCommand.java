package sleb.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sleb.bench.Shapes;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.SafetensorsWriter;
import sleb.util.AtomicFiles;
import sleb.util.Json;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a model with seeded random weights in a named shape or that of a config.json, as a Hugging Face directory.")
public final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true, paramLabel = "S",
            description = "llama2-7b, llama2-13b, llama2-70b, llama3-8b, mistral-7b, tinyllama-1.1b, stories110m, opt-6.7b, opt-13b, opt-30b, opt-66b, or a config.json")
    String shape;

    @Option(names = "--layers", paramLabel = "N", description = "blocks to build (default: the shape's count)")
    Integer layers;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|bf16", description = "weight dtype (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the weights (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write config.json and model.safetensors into")
    Path out;

    @Override
    public Integer call() throws Exception {
        NumberChecks.atLeast("--layers", layers, 1);
        DType dt = Shapes.parseDtype(dtype);
        ModelConfig cfg = Shapes.config(shape, layers);
        new Preflight().outputDir("--out", out).check();
        Model m = Shapes.create(cfg, dt, seed, 1, 0);
        Files.createDirectories(out);
        SafetensorsWriter.write(out.resolve("model.safetensors"), m.tensors());
        JsonObject c = configJson(cfg, dt);
        Path cfgFile = out.resolve("config.json");
        AtomicFiles.writeString(cfgFile, Json.GSON.toJson(c) + "\n");
        System.out.printf("wrote %s: %s, %.1f M parameters, %s, seed %d%n", out, cfg.describe(), cfg.totalParams() / 1e6, dt.name().toLowerCase(), seed);
        return 0;
    }

    /** The shape's own config.json with the block count and dtype of what was written. */
    private JsonObject configJson(ModelConfig cfg, DType dt) throws IOException {
        String text;
        if (Shapes.NAMES.contains(shape)) {
            try (InputStream in = Shapes.class.getResourceAsStream("/models/" + shape + "/config.json")) {
                Path home = System.getProperty("sleb.home") != null ? Path.of(System.getProperty("sleb.home"), "models", shape, "config.json") : null;
                text = home != null && Files.isRegularFile(home) ? Files.readString(home) : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } else {
            Path p = Path.of(shape);
            text = Files.readString(Files.isDirectory(p) ? p.resolve("config.json") : p);
        }
        JsonObject o = JsonParser.parseString(text).getAsJsonObject();
        o.addProperty("num_hidden_layers", cfg.nLayers);
        o.addProperty("torch_dtype", dt == DType.F32 ? "float32" : dt == DType.BF16 ? "bfloat16" : "float16");
        return o;
    }
}
