package sleb.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LLaMA-family model: its config and its named weights in Hugging Face naming
 * ("model.layers.3.self_attn.q_proj.weight" etc.), whatever format it was read from.
 * Q/K projection rows are always in the layout the config's {@link RopeStyle} expects.
 */
public final class Model implements AutoCloseable {
    public enum SourceFormat { HF, LLAMA2C, GGUF, SYNTHETIC }

    private final ModelConfig config;
    private final Map<String, Tensor> tensors;
    private final Path source;
    private final SourceFormat format;
    private final AutoCloseable resources;

    public Model(ModelConfig config, Map<String, Tensor> tensors, Path source, SourceFormat format, AutoCloseable resources) {
        this.config = config;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.source = source;
        this.format = format;
        this.resources = resources;
    }

    public ModelConfig config() { return config; }
    public Map<String, Tensor> tensors() { return tensors; }
    public Path source() { return source; }
    public SourceFormat format() { return format; }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new ModelFormatException("tensor " + name + " is missing from " + source);
        return t;
    }

    public boolean has(String name) { return tensors.containsKey(name); }

    public static String layer(int i, String suffix) { return "model.layers." + i + "." + suffix; }

    public Tensor embedding() { return tensor("model.embed_tokens.weight"); }
    public Tensor finalNorm() { return tensor("model.norm.weight"); }
    public Tensor lmHead() { return config.tiedEmbeddings ? embedding() : tensor("lm_head.weight"); }

    /** Bytes the weights occupy in their stored dtypes. */
    public long weightBytes() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.byteSize();
        return n;
    }

    @Override
    public void close() throws Exception {
        if (resources != null) resources.close();
    }
}
