package sleb.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The PTX resources built from native-kernels/ (make kernels) and the kernels each one defines. */
public final class Kernels {
    private Kernels() {}

    /** Resource directory inside the jar. */
    public static final String DIR = "/sleb/kernels/";
    /** PTX ISA version and target every resource must declare (docs/cuda.md). */
    public static final String PTX_VERSION = "8.0";
    public static final String PTX_TARGET = "sm_80";

    /** module (file name without .ptx) -> its extern "C" kernels. */
    public static final Map<String, List<String>> MODULES = new LinkedHashMap<>();
    static {
        MODULES.put("rmsnorm", List.of("rmsnorm_f32", "rmsnorm_bf16", "rmsnorm_f16",
                "rmsnorm_residual_f32", "rmsnorm_residual_bf16", "rmsnorm_residual_f16"));
        MODULES.put("layernorm", List.of("layernorm_f32", "layernorm_bf16", "layernorm_f16"));
        MODULES.put("rope", List.of("rope_adjacent", "rope_half"));
        MODULES.put("bias", List.of("add_bias"));
        MODULES.put("attention_prefill", List.of("attention_prefill"));
        MODULES.put("attention_decode", List.of("attention_decode", "kv_append"));
        MODULES.put("swiglu", List.of("swiglu_f32", "swiglu_bf16", "swiglu_f16"));
        MODULES.put("bias_relu", List.of("bias_relu_f32", "bias_relu_bf16", "bias_relu_f16"));
        MODULES.put("embedding", List.of("embedding_f32", "embedding_bf16", "embedding_f16"));
        MODULES.put("position_embedding", List.of("position_embedding_add_f32", "position_embedding_add_bf16", "position_embedding_add_f16"));
        MODULES.put("convert", List.of("f32_to_bf16", "f32_to_f16", "bf16_to_f32", "f16_to_f32"));
        MODULES.put("cosine", List.of("cosine_rows"));
        MODULES.put("nll", List.of("nll_rows"));
        MODULES.put("gemm_fallback", List.of("gemm_wmma_bf16", "gemm_wmma_f16", "gemm_f32"));
    }

    /** The PTX text of one module, NUL-terminated as cuModuleLoadData wants it. */
    public static byte[] ptx(String module) {
        try (InputStream in = Kernels.class.getResourceAsStream(DIR + module + ".ptx")) {
            if (in == null) throw new IllegalStateException("PTX resource " + DIR + module + ".ptx is missing from the jar; run 'make kernels'");
            byte[] text = in.readAllBytes();
            byte[] z = new byte[text.length + 1];
            System.arraycopy(text, 0, z, 0, text.length);
            return z;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + module + ": " + e.getMessage(), e);
        }
    }

    /** Attention kernels keep a head in registers as ceil(headDim/32) values per lane, at most 8. */
    public static final int MAX_HEAD_DIM = 256;
    /** Warps (queries) per block and keys per tile of attention_prefill; must match the .cu defines. */
    static final int PREFILL_BR = 8, PREFILL_BC = 32, DECODE_WARPS = 8;

    static int prefillSmemBytes(int hd) { return 4 * (PREFILL_BC * (hd + 1) + PREFILL_BC * hd + PREFILL_BR * hd); }
    static int decodeSmemBytes(int hd) { return 4 * DECODE_WARPS * hd; }
}
