package sleb.model;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's tensor names for the LLaMA architecture (llama-arch.cpp LLM_TENSOR_NAMES, convert_hf_to_gguf's
 * tensor map) and the Hugging Face names SLEB-J uses inside, both ways.
 */
public final class GgufNames {
    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    private static final Map<String, String> BLOCK = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_q.bias", "self_attn.q_proj.bias"),
            Map.entry("attn_k.bias", "self_attn.k_proj.bias"),
            Map.entry("attn_v.bias", "self_attn.v_proj.bias"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"));
    private static final Pattern GGUF_BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    private static final Pattern HF_BLOCK = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    /** llama.cpp's LLaMA-3.1 rotary frequency factors (not a weight: read into the config). */
    public static final String ROPE_FREQS = "rope_freqs.weight";

    private GgufNames() {}

    /** The Hugging Face name of a GGUF tensor, or null when SLEB-J has no use for it. */
    public static String toHf(String gguf) {
        String g = GLOBAL.get(gguf);
        if (g != null) return g;
        Matcher m = GGUF_BLOCK.matcher(gguf);
        if (!m.matches()) return null;
        String s = BLOCK.get(m.group(2));
        return s == null ? null : Model.layer(Integer.parseInt(m.group(1)), s);
    }

    /** The GGUF name of a Hugging Face tensor name SLEB-J holds. */
    public static String toGguf(String hf) {
        for (Map.Entry<String, String> e : GLOBAL.entrySet()) if (e.getValue().equals(hf)) return e.getKey();
        Matcher m = HF_BLOCK.matcher(hf);
        if (m.matches())
            for (Map.Entry<String, String> e : BLOCK.entrySet())
                if (e.getValue().equals(m.group(2))) return "blk." + m.group(1) + "." + e.getKey();
        throw new IllegalArgumentException("no GGUF name for tensor " + hf);
    }
}
