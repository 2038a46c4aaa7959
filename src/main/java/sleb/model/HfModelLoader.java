package sleb.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face LLaMA-family and OPT directories: config.json plus model.safetensors or the shards listed in
 * model.safetensors.index.json. Weights are memory-mapped; the files stay open until {@link Model#close()}.
 */
public final class HfModelLoader {
    private HfModelLoader() {}

    /** Loads dir; what the weights hold beyond what config.json uses is reported on stderr as "sleb: warning: ...". */
    public static Model load(Path dir) throws IOException {
        return load(dir, w -> System.err.println("sleb: warning: " + w));
    }

    /** A directory without config.json that holds one llama2.c checkpoint (what `sleb export` writes for a llama2.c source): name the file to pass. */
    private static void refuseLlama2cDirectory(Path dir) throws IOException {
        if (Files.exists(dir.resolve("config.json"))) return;
        List<Path> bins = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".bin") && Files.isRegularFile(p)).forEach(bins::add);
        }
        bins.removeIf(p -> p.getFileName().toString().matches("tokenizer\\.bin|tok\\d+\\.bin")); // llama2.c tokenizers, as Exporter names them
        if (bins.size() == 1)
            throw new ModelFormatException(dir + " has no config.json but holds the llama2.c checkpoint " + bins.get(0).getFileName()
                    + "; pass --model " + bins.get(0));
    }

    /** Loads dir, passing each warning (one line, no prefix) to {@code warn}. */
    static Model load(Path dir, java.util.function.Consumer<String> warn) throws IOException {
        refuseLlama2cDirectory(dir);
        ModelConfig cfg = HfConfig.read(dir.resolve("config.json"));
        List<SafetensorsFile> open = new ArrayList<>();
        AutoCloseable closeAll = () -> closeAll(open);
        try {
            Map<String, SafetensorsFile> where = openWeights(dir, open);
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : requiredShapes(cfg).entrySet()) {
                String stored = storedName(cfg, e.getKey(), where);
                SafetensorsFile f = where.get(stored);
                if (f == null) throw missing(dir, e.getKey(), cfg);
                Tensor x = f.tensor(stored);
                if (!Arrays.equals(x.shape(), e.getValue()))
                    throw new ModelFormatException(f.path() + ": tensor " + e.getKey() + " has shape " + Arrays.toString(x.shape()) + " but config.json implies "
                            + Arrays.toString(e.getValue()) + "; the weights do not match the config, check that config.json belongs to this model");
                t.put(e.getKey(), x);
            }
            warnUnused(dir, cfg, where, warn);
            return new Model(cfg, t, dir, Model.SourceFormat.HF, closeAll);
        } catch (IOException | RuntimeException e) {
            closeAll(open);
            throw e;
        }
    }

    /**
     * The name a tensor is stored under: {@code name}, or for OPT the hub's name without the "model." prefix
     * (facebook/opt-* checkpoints store "decoder.layers.0.fc1.weight") when only that one is present.
     */
    static String storedName(ModelConfig cfg, String name, Map<String, SafetensorsFile> where) {
        if (cfg.opt == null || where.containsKey(name) || !name.startsWith("model.decoder.")) return name;
        String bare = name.substring("model.".length());
        return where.containsKey(bare) ? bare : name;
    }

    /**
     * Weights config.json does not use: blocks past num_hidden_layers (transformers warns that such weights are not
     * used, and so do we), and a stored lm_head.weight that differs from the embedding it is tied to (transformers
     * ties lm_head to model.embed_tokens.weight, so the stored one is not used).
     */
    private static void warnUnused(Path dir, ModelConfig cfg, Map<String, SafetensorsFile> where, java.util.function.Consumer<String> warn)
            throws IOException {
        int layers = 0;
        for (String name : where.keySet()) {
            String prefix = cfg.opt == null ? "model.layers." : name.startsWith("decoder.") ? "decoder.layers." : "model.decoder.layers.";
            if (!name.startsWith(prefix)) continue;
            int end = name.indexOf('.', prefix.length());
            if (end < 0) continue;
            try {
                layers = Math.max(layers, Integer.parseInt(name.substring(prefix.length(), end)) + 1);
            } catch (NumberFormatException e) {
                // not a numbered block: not ours to count
            }
        }
        if (layers > cfg.nLayers)
            warn.accept("the safetensors in " + dir + " hold weights of " + layers + " layers but config.json has num_hidden_layers "
                    + cfg.nLayers + "; layers " + cfg.nLayers + ".." + (layers - 1) + " are not used (check that config.json belongs to these weights)");
        SafetensorsFile head = where.get("lm_head.weight");
        if (cfg.tiedEmbeddings && head != null) {
            String embedName = storedName(cfg, cfg.opt != null ? OptLayout.EMBED_TOKENS : "model.embed_tokens.weight", where);
            Tensor stored = head.tensor("lm_head.weight"), embed = where.get(embedName).tensor(embedName);
            if (!sameValues(stored, embed))
                warn.accept(dir + " stores an lm_head.weight that differs from " + embedName + ", but config.json has tie_word_embeddings true;"
                        + " using " + embedName + " as the output projection, as transformers does (set tie_word_embeddings false to use the stored lm_head)");
        }
    }

    /** Same dtype, shape and stored bits. */
    private static boolean sameValues(Tensor a, Tensor b) {
        if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())) return false;
        int cols = (int) a.cols();
        if (a.dtype() == DType.F32) {
            float[] x = new float[cols], y = new float[cols];
            for (long r = 0; r < a.rows(); r++) {
                a.rowToFloat(r, 0, x, 0, cols);
                b.rowToFloat(r, 0, y, 0, cols);
                for (int i = 0; i < cols; i++) if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) return false;
            }
            return true;
        }
        short[] x = new short[cols], y = new short[cols];
        for (long r = 0; r < a.rows(); r++) {
            a.rowBits(r, 0, x, 0, cols);
            b.rowBits(r, 0, y, 0, cols);
            if (!Arrays.equals(x, y)) return false;
        }
        return true;
    }

    private static ModelFormatException missing(Path dir, String name, ModelConfig cfg) {
        String hint = name.equals("lm_head.weight") ? " (config.json has tie_word_embeddings false, so the output projection must be stored)" : "";
        return new ModelFormatException("tensor " + name + " is missing from the safetensors in " + dir + hint + "; the checkpoint is incomplete or not a "
                + cfg.modelType + " model, re-download or re-export it");
    }

    /** Every tensor the model needs, in load order, with the shape config.json implies. */
    static Map<String, long[]> requiredShapes(ModelConfig c) {
        if (c.opt != null) return OptLayout.requiredShapes(c);
        Map<String, long[]> m = new LinkedHashMap<>();
        long dim = c.dim, q = c.qDim(), kv = c.kvDim(), hidden = c.hiddenDim;
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize, dim});
        for (int i = 0; i < c.nLayers; i++) {
            m.put(Model.layer(i, "input_layernorm.weight"), new long[] {dim});
            m.put(Model.layer(i, "self_attn.q_proj.weight"), new long[] {q, dim});
            m.put(Model.layer(i, "self_attn.k_proj.weight"), new long[] {kv, dim});
            m.put(Model.layer(i, "self_attn.v_proj.weight"), new long[] {kv, dim});
            if (c.qkvBias) {
                m.put(Model.layer(i, "self_attn.q_proj.bias"), new long[] {q});
                m.put(Model.layer(i, "self_attn.k_proj.bias"), new long[] {kv});
                m.put(Model.layer(i, "self_attn.v_proj.bias"), new long[] {kv});
            }
            m.put(Model.layer(i, "self_attn.o_proj.weight"), new long[] {dim, q});
            m.put(Model.layer(i, "post_attention_layernorm.weight"), new long[] {dim});
            m.put(Model.layer(i, "mlp.gate_proj.weight"), new long[] {hidden, dim});
            m.put(Model.layer(i, "mlp.up_proj.weight"), new long[] {hidden, dim});
            m.put(Model.layer(i, "mlp.down_proj.weight"), new long[] {dim, hidden});
        }
        m.put("model.norm.weight", new long[] {dim});
        if (!c.tiedEmbeddings) m.put("lm_head.weight", new long[] {c.vocabSize, dim});
        return m;
    }

    /** Opens model.safetensors or every shard of the index; returns which file holds each tensor. */
    private static Map<String, SafetensorsFile> openWeights(Path dir, List<SafetensorsFile> open) throws IOException {
        Map<String, SafetensorsFile> where = new LinkedHashMap<>();
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = SafetensorsFile.open(single);
            open.add(f);
            for (String n : f.names()) where.put(n, f);
            return where;
        }
        if (!Files.isRegularFile(index))
            throw new ModelFormatException(dir + " has neither model.safetensors nor model.safetensors.index.json; download the safetensors weights (SLEB-J does not read .bin/.pth)");
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : weightMap(index).entrySet()) {
            SafetensorsFile f = shards.get(e.getValue());
            if (f == null) {
                Path p = dir.resolve(e.getValue());
                if (!Files.isRegularFile(p))
                    throw new ModelFormatException("shard " + p + " named by " + index + " is missing; the download is incomplete, fetch all shards");
                f = SafetensorsFile.open(p);
                open.add(f);
                shards.put(e.getValue(), f);
            }
            if (!f.has(e.getKey()))
                throw new ModelFormatException(index + " puts tensor " + e.getKey() + " in " + f.path() + " but that shard does not hold it; the index and shards do not match, re-download");
            where.put(e.getKey(), f);
        }
        return where;
    }

    private static Map<String, String> weightMap(Path index) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            JsonObject o = StrictJson.parseObject(Files.readString(index, StandardCharsets.UTF_8));
            JsonElement wm = o.get("weight_map");
            if (wm == null || !wm.isJsonObject()) throw new JsonParseException("no \"weight_map\" object");
            for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
                String file = e.getValue().getAsString();
                if (file.contains("/") || file.contains("\\") || file.startsWith("."))
                    throw new JsonParseException("shard name " + file + " is not a plain file name");
                m.put(e.getKey(), file);
            }
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException ex) {
            throw new ModelFormatException(index + " is not a valid safetensors index (" + StrictJson.reason(ex) + "); re-download it");
        }
        return m;
    }

    private static void closeAll(List<SafetensorsFile> files) throws IOException {
        IOException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
