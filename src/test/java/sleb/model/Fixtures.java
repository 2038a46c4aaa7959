package sleb.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Builders of model directories and corrupted copies for the loader tests. */
final class Fixtures {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private Fixtures() {}

    static Path copyDir(Path src, Path dst) throws IOException {
        Files.createDirectories(dst);
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path d = dst.resolve(p.getFileName().toString());
                Files.copy(p, d);
                d.toFile().setWritable(true);
            }
        }
        return dst;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.delete(p);
        }
    }

    static JsonObject readJson(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    static void writeJson(Path file, JsonObject o) throws IOException {
        Files.writeString(file, GSON.toJson(o));
    }

    static void editConfig(Path dir, Consumer<JsonObject> edit) throws IOException {
        JsonObject c = readJson(dir.resolve("config.json"));
        edit.accept(c);
        writeJson(dir.resolve("config.json"), c);
    }

    /** Rewrites a safetensors file with an edited header and the same data region. */
    static void editHeader(Path file, Consumer<JsonObject> edit) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(all, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        edit.accept(h);
        byte[] json = new Gson().toJson(h).getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + all.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(all, 8 + (int) n, all.length - 8 - (int) n);
        Files.write(file, out.array());
    }

    static JsonObject config(String arch, String type, int dim, int hidden, int layers, int heads, int kvHeads, int vocab, boolean tied) {
        JsonObject c = new JsonObject();
        com.google.gson.JsonArray a = new com.google.gson.JsonArray();
        a.add(arch);
        c.add("architectures", a);
        c.addProperty("model_type", type);
        c.addProperty("hidden_size", dim);
        c.addProperty("intermediate_size", hidden);
        c.addProperty("num_hidden_layers", layers);
        c.addProperty("num_attention_heads", heads);
        c.addProperty("num_key_value_heads", kvHeads);
        c.addProperty("vocab_size", vocab);
        c.addProperty("rms_norm_eps", 1e-5);
        c.addProperty("tie_word_embeddings", tied);
        return c;
    }

    /** Random tensors with the shapes the config implies; norms in normType, the rest in type. */
    static Map<String, Tensor> randomTensors(ModelConfig cfg, DType type, DType normType, long seed) {
        Random r = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : HfModelLoader.requiredShapes(cfg).entrySet()) {
            float[] v = new float[(int) Tensor.numel(e.getValue())];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            DType dt = e.getKey().endsWith("norm.weight") ? normType : type;
            m.put(e.getKey(), Tensor.ofFloats(e.getKey(), dt, e.getValue(), v));
        }
        return m;
    }
}
