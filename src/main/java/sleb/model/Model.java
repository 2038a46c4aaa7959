package sleb.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LLaMA-family or OPT model: its config and its named weights in Hugging Face naming
 * ("model.layers.3.self_attn.q_proj.weight" etc.; OPT's "model.decoder.layers.3.fc1.weight", see {@link OptLayout}),
 * whatever format it was read from.
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

    /** Block i's q projection weight (self_attn.q_proj.weight in either naming); its dtype is the model's GEMM dtype. */
    public Tensor qProj(int i) {
        return tensor(config.opt != null ? OptLayout.layer(i, OptLayout.Q_PROJ + ".weight") : layer(i, "self_attn.q_proj.weight"));
    }

    /** Token embedding [vocab][embedDim]: model.embed_tokens.weight, or OPT's model.decoder.embed_tokens.weight. */
    public Tensor embedding() { return tensor(config.opt != null ? OptLayout.EMBED_TOKENS : "model.embed_tokens.weight"); }

    /** Final norm weight: model.norm.weight, or OPT's model.decoder.final_layer_norm.weight (absent where {@code opt.finalLayerNorm} is false). */
    public Tensor finalNorm() { return tensor(config.opt != null ? OptLayout.FINAL_NORM_WEIGHT : "model.norm.weight"); }
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
