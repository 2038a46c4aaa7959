package sleb.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an OPT decoder (transformers' {@code OPTForCausalLM}, modeling_opt.py) has that a LLaMA one does not,
 * and its tensor names. An OPT {@link ModelConfig} carries one of these in {@link ModelConfig#opt}; LLaMA-family
 * configs carry null. The shared fields of ModelConfig mean for OPT: {@code dim} hidden_size, {@code hiddenDim}
 * ffn_dim, {@code nKvHeads == nHeads}, {@code normEps} 1e-5 (nn.LayerNorm's default; OPT has no key for it),
 * {@code maxSeqLen} max_position_embeddings, {@code tiedEmbeddings} tie_word_embeddings (default true).
 *
 * <p>The math (modeling_opt.py, OPTDecoder and OPTDecoderLayer), per position p counted from 0 without padding:
 * <pre>
 *   h = embed_tokens[id]                          [word_embed_proj_dim]
 *   h = project_in(h)        (when present)       [hidden_size], no bias
 *   h = h + embed_positions[p + 2]                (POSITION_OFFSET rows reserved by fairseq)
 *   per block, pre-LN (do_layer_norm_before):
 *     h = h + out_proj(attn(self_attn_layer_norm(h)))     q = (q_proj(x) + b_q) * head_dim^-0.5
 *     h = h + fc2(relu(fc1(final_layer_norm(h))))         every projection has a bias
 *   per block, post-LN (the 350m layout):
 *     h = self_attn_layer_norm(h + out_proj(attn(h)))
 *     h = final_layer_norm(h + fc2(relu(fc1(h))))
 *   h = decoder.final_layer_norm(h)  (pre-LN and not _remove_final_layer_norm)
 *   h = project_out(h)       (when present)       [word_embed_proj_dim], no bias
 *   logits = embed_tokens h  (lm_head tied)       [vocab]
 * </pre>
 * LayerNorm: (x - mean) / sqrt(var + eps) * weight + bias, biased variance, eps 1e-5.
 * A block SLEB removes is skipped: h passes on unchanged and every position keeps its position row.
 *
 * <p>Tensor names are the save_pretrained ones ({@code model.decoder.*}); hub checkpoints that store them
 * without the {@code model.} prefix ({@code decoder.*}) are loaded under these names too.
 */
public final class OptLayout {
    /** OPT's learned position table has this many leading rows no position uses: row = position + 2. */
    public static final int POSITION_OFFSET = 2;

    public static final String EMBED_TOKENS = "model.decoder.embed_tokens.weight";
    public static final String EMBED_POSITIONS = "model.decoder.embed_positions.weight";
    public static final String PROJECT_IN = "model.decoder.project_in.weight";
    public static final String PROJECT_OUT = "model.decoder.project_out.weight";
    public static final String FINAL_NORM_WEIGHT = "model.decoder.final_layer_norm.weight";
    public static final String FINAL_NORM_BIAS = "model.decoder.final_layer_norm.bias";
    public static final String LM_HEAD = "lm_head.weight";
    /** Per-block tensor suffixes, for {@link #layer(int, String)}. */
    public static final String ATTN_NORM = "self_attn_layer_norm", FFN_NORM = "final_layer_norm",
            Q_PROJ = "self_attn.q_proj", K_PROJ = "self_attn.k_proj", V_PROJ = "self_attn.v_proj", OUT_PROJ = "self_attn.out_proj",
            FC1 = "fc1", FC2 = "fc2";

    /** do_layer_norm_before: true for every OPT size except 350m (LayerNorm before attention and MLP, else after the residual add). */
    public final boolean layerNormBefore;
    /** Whether model.decoder.final_layer_norm exists: do_layer_norm_before and not _remove_final_layer_norm. */
    public final boolean finalLayerNorm;
    /** word_embed_proj_dim: the width of embed_tokens and lm_head; project_in/out exist when it differs from hidden_size. */
    public final int wordEmbedProjDim;
    /** Whether project_in [hidden, proj] and project_out [proj, hidden] exist (word_embed_proj_dim != hidden_size). */
    public final boolean projectInOut;

    public OptLayout(boolean layerNormBefore, boolean finalLayerNorm, int wordEmbedProjDim, boolean projectInOut) {
        this.layerNormBefore = layerNormBefore;
        this.finalLayerNorm = finalLayerNorm;
        this.wordEmbedProjDim = wordEmbedProjDim;
        this.projectInOut = projectInOut;
    }

    /** "model.decoder.layers.{i}.{suffix}". */
    public static String layer(int i, String suffix) { return "model.decoder.layers." + i + "." + suffix; }

    /** Every tensor an OPT model needs, in load order, with the shape the config implies (nn.Linear: [out, in]). */
    public static Map<String, long[]> requiredShapes(ModelConfig c) {
        OptLayout o = c.opt;
        Map<String, long[]> m = new LinkedHashMap<>();
        long dim = c.dim, ffn = c.hiddenDim, proj = o.wordEmbedProjDim;
        m.put(EMBED_TOKENS, new long[] {c.vocabSize, proj});
        m.put(EMBED_POSITIONS, new long[] {(long) c.maxSeqLen + POSITION_OFFSET, dim});
        if (o.projectInOut) {
            m.put(PROJECT_IN, new long[] {dim, proj});
            m.put(PROJECT_OUT, new long[] {proj, dim});
        }
        for (int i = 0; i < c.nLayers; i++) {
            for (String p : new String[] {Q_PROJ, K_PROJ, V_PROJ, OUT_PROJ}) {
                m.put(layer(i, p + ".weight"), new long[] {dim, dim});
                m.put(layer(i, p + ".bias"), new long[] {dim});
            }
            m.put(layer(i, ATTN_NORM + ".weight"), new long[] {dim});
            m.put(layer(i, ATTN_NORM + ".bias"), new long[] {dim});
            m.put(layer(i, FC1 + ".weight"), new long[] {ffn, dim});
            m.put(layer(i, FC1 + ".bias"), new long[] {ffn});
            m.put(layer(i, FC2 + ".weight"), new long[] {dim, ffn});
            m.put(layer(i, FC2 + ".bias"), new long[] {dim});
            m.put(layer(i, FFN_NORM + ".weight"), new long[] {dim});
            m.put(layer(i, FFN_NORM + ".bias"), new long[] {dim});
        }
        if (o.finalLayerNorm) {
            m.put(FINAL_NORM_WEIGHT, new long[] {dim});
            m.put(FINAL_NORM_BIAS, new long[] {dim});
        }
        if (!c.tiedEmbeddings) m.put(LM_HEAD, new long[] {c.vocabSize, proj});
        return m;
    }

    /** Parameters of one OPT block: four [dim x dim] attention projections and two MLP matrices, their biases, two LayerNorms. */
    static long blockParams(ModelConfig c) {
        long d = c.dim, f = c.hiddenDim;
        return 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d;
    }

    /** Parameters outside the blocks: token and position tables, project_in/out, final LayerNorm, an untied lm_head. */
    static long outerParams(ModelConfig c) {
        OptLayout o = c.opt;
        long embed = (long) c.vocabSize * o.wordEmbedProjDim;
        long n = embed + ((long) c.maxSeqLen + POSITION_OFFSET) * c.dim;
        if (o.projectInOut) n += 2L * c.dim * o.wordEmbedProjDim;
        if (o.finalLayerNorm) n += 2L * c.dim;
        return n + (c.tiedEmbeddings ? 0 : embed);
    }

    /** ", pre-LN" or ", post-LN", with project_in/out and final LayerNorm noted. */
    String describe() {
        return (layerNormBefore ? ", pre-LN" : ", post-LN") + (finalLayerNorm ? ", final LayerNorm" : ", no final LayerNorm")
                + (projectInOut ? ", project_in/out to word_embed_proj_dim " + wordEmbedProjDim : "");
    }
}
