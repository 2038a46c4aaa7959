package sleb.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model with seeded random weights in a given shape, for benchmarks and tests. Matrices are uniform
 * in +-1/sqrt(fan_in) so activations keep a sane scale through many blocks; norm weights are near 1.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    public static Model create(ModelConfig c, DType dtype, long seed) {
        if (c.opt != null) return createOpt(c, dtype, seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        put(t, "model.embed_tokens.weight", dtype, rnd, 1.0, c.vocabSize, c.dim);
        for (int i = 0; i < c.nLayers; i++) {
            norm(t, Model.layer(i, "input_layernorm.weight"), dtype, rnd, c.dim);
            put(t, Model.layer(i, "self_attn.q_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.dim), c.qDim(), c.dim);
            put(t, Model.layer(i, "self_attn.k_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.dim), c.kvDim(), c.dim);
            put(t, Model.layer(i, "self_attn.v_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.dim), c.kvDim(), c.dim);
            if (c.qkvBias) {
                put(t, Model.layer(i, "self_attn.q_proj.bias"), dtype, rnd, 0.1, c.qDim());
                put(t, Model.layer(i, "self_attn.k_proj.bias"), dtype, rnd, 0.1, c.kvDim());
                put(t, Model.layer(i, "self_attn.v_proj.bias"), dtype, rnd, 0.1, c.kvDim());
            }
            put(t, Model.layer(i, "self_attn.o_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.qDim()), c.dim, c.qDim());
            norm(t, Model.layer(i, "post_attention_layernorm.weight"), dtype, rnd, c.dim);
            put(t, Model.layer(i, "mlp.gate_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.dim), c.hiddenDim, c.dim);
            put(t, Model.layer(i, "mlp.up_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.dim), c.hiddenDim, c.dim);
            put(t, Model.layer(i, "mlp.down_proj.weight"), dtype, rnd, 1 / Math.sqrt(c.hiddenDim), c.dim, c.hiddenDim);
        }
        norm(t, "model.norm.weight", dtype, rnd, c.dim);
        if (!c.tiedEmbeddings) put(t, "lm_head.weight", dtype, rnd, 1 / Math.sqrt(c.dim), c.vocabSize, c.dim);
        return new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null);
    }

    /** OPT: every tensor of {@link OptLayout#requiredShapes}; LayerNorm weights near 1, biases within +-0.1, embeddings within +-1. */
    private static Model createOpt(ModelConfig c, DType dtype, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : OptLayout.requiredShapes(c).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            if (name.endsWith("layer_norm.weight")) norm(t, name, dtype, rnd, (int) shape[0]);
            else if (shape.length == 1) put(t, name, dtype, rnd, 0.1, shape);
            else if (name.equals(OptLayout.EMBED_TOKENS) || name.equals(OptLayout.EMBED_POSITIONS)) put(t, name, dtype, rnd, 1.0, shape);
            else put(t, name, dtype, rnd, 1 / Math.sqrt(shape[1]), shape);
        }
        return new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null);
    }

    private static void put(Map<String, Tensor> t, String name, DType dtype, SplittableRandom rnd, double scale, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        t.put(name, Tensor.ofFloats(name, dtype, shape, v));
    }

    private static void norm(Map<String, Tensor> t, String name, DType dtype, SplittableRandom rnd, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) v[i] = (float) (1 + (rnd.nextDouble() - 0.5) * 0.2);
        t.put(name, Tensor.ofFloats(name, dtype, new long[] {dim}, v));
    }
}
