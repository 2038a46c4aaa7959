package sleb.model;

import java.util.List;

/**
 * The byte layout of a llama2.c checkpoint as llama2.c's export.py writes it, for the loader and the writer.
 * Legacy (legacy_export): 7 int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size negative
 * when the classifier is separate, seq_len), then fp32 tensors: embedding, each per-layer tensor for every layer
 * in {@link #LEGACY_LAYER_ORDER}, final norm, the RoPE tables freq_cis_real and freq_cis_imag (seq_len x
 * head_dim/2 each), and the classifier when not shared. Version 1 (version1_export): "ak42" magic, int32 version,
 * the 7 int32, a shared-classifier byte, zero padding to 256 bytes; fp32 tensors attention norms, ffn norms,
 * final norm, embedding, wq, wk, wv, wo, w1, w2, w3 (every layer each), classifier when not shared; no RoPE tables.
 * Tensors are named as Hugging Face names them (w1 = mlp.gate_proj, w2 = mlp.down_proj, w3 = mlp.up_proj).
 */
public final class Llama2cLayout {
    /** "ak42" read as a little-endian int32: the first 4 bytes of a versioned checkpoint. */
    public static final int MAGIC = 0x616b3432;
    public static final int LEGACY_HEADER_BYTES = 28;
    public static final int VERSIONED_HEADER_BYTES = 256;

    /** Per-layer tensors in the legacy file's order. */
    public static final List<String> LEGACY_LAYER_ORDER = List.of("input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
            "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.down_proj.weight",
            "mlp.up_proj.weight");

    /** Per-layer norms, then the per-layer matrices, of a version-1 file (the final norm and embedding sit between them). */
    public static final List<String> V1_LAYER_NORMS = List.of("input_layernorm.weight", "post_attention_layernorm.weight");
    public static final List<String> V1_LAYER_MATRICES = List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
            "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.down_proj.weight", "mlp.up_proj.weight");

    private Llama2cLayout() {}

    /** The shape of per-layer tensor {@code suffix} in a model of config {@code c}, [out, in] for matrices. */
    public static long[] layerShape(String suffix, ModelConfig c) {
        switch (suffix) {
            case "input_layernorm.weight": case "post_attention_layernorm.weight": return new long[] {c.dim};
            case "self_attn.q_proj.weight": return new long[] {c.qDim(), c.dim};
            case "self_attn.k_proj.weight": case "self_attn.v_proj.weight": return new long[] {c.kvDim(), c.dim};
            case "self_attn.o_proj.weight": return new long[] {c.dim, c.qDim()};
            case "mlp.gate_proj.weight": case "mlp.up_proj.weight": return new long[] {c.hiddenDim, c.dim};
            case "mlp.down_proj.weight": return new long[] {c.dim, c.hiddenDim};
            default: throw new IllegalArgumentException("not a llama2.c layer tensor: " + suffix);
        }
    }

    /** fp32 values of the embedding, every layer and the final norm: what comes before the RoPE tables of a legacy file. */
    public static long weightFloats(ModelConfig c) {
        long perLayer = 2L * c.dim + 2L * c.dim * c.qDim() + 2L * c.dim * c.kvDim() + 3L * c.dim * c.hiddenDim;
        return (long) c.vocabSize * c.dim + c.nLayers * perLayer + c.dim;
    }

    /** Bytes of the two legacy RoPE tables, freq_cis_real and freq_cis_imag (seq_len x head_dim/2 fp32 each). */
    public static long ropeTableBytes(ModelConfig c) { return 4L * c.maxSeqLen * c.headDim; }

    /** Where a legacy file's RoPE tables start. */
    public static long legacyRopeOffset(ModelConfig c) { return LEGACY_HEADER_BYTES + 4L * weightFloats(c); }

    /** The size a checkpoint of config {@code c} has at least: header, weights, RoPE tables (legacy) and classifier (when separate). */
    public static long fileBytes(ModelConfig c, boolean versioned) {
        return (versioned ? VERSIONED_HEADER_BYTES : LEGACY_HEADER_BYTES) + 4L * weightFloats(c) + (versioned ? 0 : ropeTableBytes(c))
                + (c.tiedEmbeddings ? 0 : 4L * c.vocabSize * c.dim);
    }
}
