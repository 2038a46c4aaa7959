package sleb.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a LLaMA-architecture GGUF file (general.architecture = llama) as llama.cpp's llama-model.cpp does: the
 * llama.* hyper-parameters, llama.cpp's tensor names ({@link GgufNames}), q/k rows in the interleaved RoPE layout
 * convert_hf_to_gguf permutes them into (so {@link RopeStyle#ADJACENT}, as llama2.c), a missing output.weight meaning
 * tied embeddings, rope_freqs as per-pair frequency divisors. F32/F16/BF16 tensors are memory-mapped; Q8_0 tensors
 * are dequantized to F32 on load. Other architectures, tensor types and rope scalings are refused with one line.
 */
public final class GgufLoader {
    private static final String ARCH = "llama";

    private GgufLoader() {}

    public static Model load(Path file) throws IOException {
        GgufFile g = GgufFile.open(file);
        try {
            String arch = g.string("general.architecture");
            if (arch == null) throw new ModelFormatException(file + " has no general.architecture; it is not a GGUF model (a vocabulary-only file?)");
            if (!arch.equals(ARCH))
                throw new ModelFormatException(file + " is a GGUF model of architecture '" + arch + "'; SLEB-J reads the 'llama' architecture only");
            ModelConfig cfg = config(g);
            Map<String, long[]> shapes = HfModelLoader.requiredShapes(cfg);
            Map<String, Tensor> t = new LinkedHashMap<>();
            List<String> unused = new ArrayList<>();
            for (GgufFile.TensorInfo info : g.tensorInfos().values()) {
                if (info.name.equals(GgufNames.ROPE_FREQS)) continue;
                String hf = GgufNames.toHf(info.name);
                if (hf == null || !shapes.containsKey(hf)) {
                    unused.add(info.name);
                    continue;
                }
                if (!Arrays.equals(info.shape(), shapes.get(hf)))
                    throw new ModelFormatException(file + ": tensor " + info.name + " has shape " + Arrays.toString(info.shape()) + " (ne reversed) but the llama.* keys imply "
                            + Arrays.toString(shapes.get(hf)) + "; the file is inconsistent");
                t.put(hf, g.tensor(info.name, hf));
            }
            if (!unused.isEmpty())
                throw new ModelFormatException(file + " holds tensors a LLaMA model does not have (" + String.join(", ", unused.subList(0, Math.min(4, unused.size())))
                        + (unused.size() > 4 ? ", ..." : "") + "); SLEB-J reads dense LLaMA GGUF files only");
            for (String need : shapes.keySet())
                if (!t.containsKey(need))
                    throw new ModelFormatException(file + " lacks tensor " + GgufNames.toGguf(need) + "; the file is incomplete");
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            for (String n : shapes.keySet()) ordered.put(n, t.get(n));
            return new Model(cfg, ordered, file, Model.SourceFormat.GGUF, g);
        } catch (IOException | RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /**
     * "version 3, stored {F32=9, Q8_0=29} tensors; Q8_0 dequantized to F32 on load", for `sleb info`: the types in the
     * file, which the weights SLEB-J computes with may not keep.
     */
    public static String describeStorage(Path file) throws IOException {
        try (GgufFile g = GgufFile.open(file)) {
            Map<String, Integer> types = new java.util.TreeMap<>();
            for (GgufFile.TensorInfo t : g.tensorInfos().values()) types.merge(t.typeName(), 1, Integer::sum);
            return "version " + g.version() + ", stored " + types + " tensors" + (types.containsKey("Q8_0") ? "; Q8_0 dequantized to F32 on load" : "")
                    + "; tokenizer " + (g.string("tokenizer.ggml.model") == null ? "none" : g.string("tokenizer.ggml.model"));
        }
    }

    /** The config the llama.* keys describe; vocabulary size from token_embd, BOS/EOS from tokenizer.ggml.*. */
    static ModelConfig config(GgufFile g) throws IOException {
        Path file = g.path();
        int dim = positive(g, "llama.embedding_length");
        int hidden = positive(g, "llama.feed_forward_length");
        int layers = positive(g, "llama.block_count");
        int heads = positive(g, "llama.attention.head_count");
        int kvHeads = (int) g.integer("llama.attention.head_count_kv", heads);
        if (g.integer("llama.expert_count", 0) > 0)
            throw new ModelFormatException(file + " is a mixture-of-experts model (llama.expert_count " + g.integer("llama.expert_count", 0) + "); SLEB-J reads dense LLaMA models only");
        if (dim % heads != 0 && !g.metadata().containsKey("llama.attention.key_length"))
            throw new ModelFormatException(file + ": llama.embedding_length " + dim + " is not a multiple of llama.attention.head_count " + heads);
        int headDim = (int) g.integer("llama.attention.key_length", dim / heads);
        long valueLength = g.integer("llama.attention.value_length", headDim);
        if (valueLength != headDim)
            throw new ModelFormatException(file + ": llama.attention.value_length " + valueLength + " differs from key_length " + headDim + "; not supported");
        long rot = g.integer("llama.rope.dimension_count", headDim);
        if (rot != headDim)
            throw new ModelFormatException(file + ": llama.rope.dimension_count " + rot + " rotates part of each " + headDim + "-wide head; SLEB-J supports full rotary heads only");
        String scaling = g.string("llama.rope.scaling.type");
        if (scaling != null && !scaling.equals("none"))
            throw new ModelFormatException(file + ": llama.rope.scaling.type '" + scaling + "' is not supported (only none, and LLaMA-3.1 rope_freqs)");
        GgufFile.TensorInfo embd = g.tensorInfos().get("token_embd.weight");
        if (embd == null || embd.ne.length != 2) throw new ModelFormatException(file + " lacks a 2-D token_embd.weight; the file is incomplete");
        int vocab = (int) embd.ne[1];
        int ctx = (int) g.integer("llama.context_length", 2048);
        float eps = (float) g.real("llama.attention.layer_norm_rms_epsilon", 1e-5);
        double theta = g.real("llama.rope.freq_base", 10000.0);
        boolean tied = !g.has("output.weight");
        boolean bias = g.has("blk.0.attn_q.bias");
        int bos = (int) g.integer("tokenizer.ggml.bos_token_id", -1);
        int eos = (int) g.integer("tokenizer.ggml.eos_token_id", -1);
        double[] factors = null;
        if (g.has(GgufNames.ROPE_FREQS)) {
            float[] f = g.tensor(GgufNames.ROPE_FREQS, GgufNames.ROPE_FREQS).toFloatArray();
            if (f.length != headDim / 2) throw new ModelFormatException(file + ": rope_freqs has " + f.length + " factors, head_dim " + headDim + " needs " + headDim / 2);
            factors = new double[f.length];
            for (int i = 0; i < f.length; i++) factors[i] = f[i];
        }
        return new ModelConfig("LlamaForCausalLM", "llama", dim, hidden, layers, heads, kvHeads, headDim, vocab, ctx, eps, theta,
                RopeStyle.ADJACENT, tied, bias, null, bos, eos, null, null, factors);
    }

    private static int positive(GgufFile g, String key) {
        long v = g.integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new ModelFormatException(g.path() + ": " + key + " is " + v + "; the file is corrupt");
        return (int) v;
    }
}
