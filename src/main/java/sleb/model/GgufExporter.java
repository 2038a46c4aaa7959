package sleb.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import sleb.tokenizer.GgufVocab;
import sleb.util.UsageException;

/**
 * Writes a model (kept blocks renumbered 0..k-1) as a llama-architecture GGUF file that llama.cpp loads, with the keys
 * and tensor names convert_hf_to_gguf.py writes for LLaMA: q/k rows (and biases) in the interleaved RoPE layout,
 * output.weight omitted when tied, rope_freqs for LLaMA-3.1 rope scaling, 1-D tensors in F32, matrices in the source
 * dtype or the --outtype (f32, f16, bf16, q8_0; a Q8_0 matrix whose rows are not a multiple of 32 falls back to F16 as
 * in convert_hf_to_gguf), and the tokenizer as tokenizer.ggml.* metadata (padded with [PAD{id}] tokens of type UNUSED
 * up to the model's vocabulary, as the converter does).
 */
public final class GgufExporter {
    /** --outtype values; auto keeps each tensor's stored dtype. */
    public static final List<String> OUT_TYPES = List.of("auto", "f32", "f16", "bf16", "q8_0");
    /** llama.cpp's llama_ftype for general.file_type. */
    private static final Map<GgmlType, Integer> FILE_TYPE = Map.of(GgmlType.F32, 0, GgmlType.F16, 1, GgmlType.Q8_0, 7, GgmlType.BF16, 32);

    private GgufExporter() {}

    public static void checkOutType(String outType) {
        if (!OUT_TYPES.contains(outType)) throw new UsageException("--outtype " + outType + " is not one of " + String.join(", ", OUT_TYPES));
    }

    /** Refuses a model llama.cpp's llama architecture would compute differently, naming what differs. */
    public static void checkSource(ModelConfig c) {
        if (!c.modelType.equals("llama") && !c.modelType.equals("mistral"))
            throw new UsageException("GGUF export writes llama.cpp's llama architecture; this model is " + c.modelType + " (" + c.architecture
                    + "), which it cannot express; export it with --format hf");
        if (c.hasSlidingWindow())
            throw new UsageException("GGUF export: this model attends through a sliding window, which llama.cpp's llama architecture does not apply; export it with --format hf");
    }

    /** Writes {@code file}; returns a short description of the tensor types written. */
    public static String write(Model m, int[] keep, Path file, String outType, GgufVocab vocab) throws IOException {
        checkOutType(outType);
        ModelConfig c = m.config();
        checkSource(c);
        if (vocab.tokens.length > c.vocabSize)
            throw new UsageException("the tokenizer has " + vocab.tokens.length + " tokens, more than the model's vocabulary of " + c.vocabSize + "; wrong tokenizer for this model?");
        boolean permute = c.ropeStyle == RopeStyle.HALF;
        List<GgufWriter.Entry> entries = new ArrayList<>();
        Map<GgmlType, Integer> counts = new TreeMap<>();
        int[] fallbacks = {0};
        java.util.function.BiConsumer<String, Tensor> add = (ggufName, t) -> {
            GgmlType type = target(t, outType);
            if (type == GgmlType.Q8_0 && t.cols() % GgufQ8_0.BLOCK != 0) {
                type = GgmlType.F16;
                fallbacks[0]++;
            }
            counts.merge(type, 1, Integer::sum);
            entries.add(new GgufWriter.Entry(ggufName, type, t.shape(), data(t, type)));
        };
        add.accept("token_embd.weight", m.embedding());
        double[] factors = ropeFactors(c);
        if (factors != null) {
            float[] f = new float[factors.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) factors[i];
            add.accept(GgufNames.ROPE_FREQS, Tensor.ofFloats(GgufNames.ROPE_FREQS, DType.F32, new long[] {f.length}, f));
        }
        for (int i = 0; i < keep.length; i++) {
            String prefix = Model.layer(keep[i], "");
            for (Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
                if (!e.getKey().startsWith(prefix)) continue;
                String renamed = Model.layer(i, e.getKey().substring(prefix.length()));
                Tensor t = e.getValue();
                if (permute && Exporter.isRotaryProjection(renamed)) t = RopeRows.toAdjacent(renamed, t, c.headDim);
                add.accept(GgufNames.toGguf(renamed), t);
            }
        }
        add.accept("output_norm.weight", m.finalNorm());
        if (!c.tiedEmbeddings) add.accept("output.weight", m.lmHead());

        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.str("llama"));
        meta.put("general.type", GgufValue.str("model"));
        String name = m.source() == null ? "sleb-j" : m.source().getFileName().toString().replaceAll("\\.(bin|gguf)$", "");
        meta.put("general.name", GgufValue.str(name));
        meta.put("llama.block_count", GgufValue.u32(keep.length));
        meta.put("llama.context_length", GgufValue.u32(c.maxSeqLen));
        meta.put("llama.embedding_length", GgufValue.u32(c.dim));
        meta.put("llama.feed_forward_length", GgufValue.u32(c.hiddenDim));
        meta.put("llama.attention.head_count", GgufValue.u32(c.nHeads));
        meta.put("llama.attention.head_count_kv", GgufValue.u32(c.nKvHeads));
        meta.put("llama.rope.freq_base", GgufValue.f32(c.ropeTheta));
        meta.put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(c.normEps));
        if (c.headDim != c.dim / c.nHeads || c.dim % c.nHeads != 0) {
            meta.put("llama.attention.key_length", GgufValue.u32(c.headDim));
            meta.put("llama.attention.value_length", GgufValue.u32(c.headDim));
        }
        meta.put("general.file_type", GgufValue.u32(FILE_TYPE.get(dominant(counts))));
        meta.put("llama.vocab_size", GgufValue.u32(c.vocabSize));
        meta.put("llama.rope.dimension_count", GgufValue.u32(c.headDim));
        meta.put("general.quantization_version", GgufValue.u32(2));
        padded(vocab, c.vocabSize).putMetadata(meta);
        GgufWriter.write(file, meta, entries);
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<GgmlType, Integer> e : counts.entrySet()) sb.append(sb.length() > 0 ? ", " : "").append(e.getValue()).append(" ").append(e.getKey());
        if (fallbacks[0] > 0) sb.append(" (").append(fallbacks[0]).append(" matrices with rows not a multiple of 32 are F16, as convert_hf_to_gguf falls back)");
        return sb.toString();
    }

    /** The type a tensor is written in: 1-D tensors F32 (as convert_hf_to_gguf), matrices the source dtype or the outtype. */
    static GgmlType target(Tensor t, String outType) {
        if (t.rank() <= 1) return GgmlType.F32;
        switch (outType) {
            case "f32": return GgmlType.F32;
            case "f16": return GgmlType.F16;
            case "bf16": return GgmlType.BF16;
            case "q8_0": return GgmlType.Q8_0;
            default: return GgmlType.of(t.dtype());
        }
    }

    /** The type most matrices have (general.file_type names it, as llama.cpp's "MOSTLY_*"). */
    private static GgmlType dominant(Map<GgmlType, Integer> counts) {
        GgmlType best = GgmlType.F32;
        int n = -1;
        for (Map.Entry<GgmlType, Integer> e : counts.entrySet())
            if (e.getKey() != GgmlType.F32 && e.getValue() > n) { best = e.getKey(); n = e.getValue(); }
        return n < 0 ? GgmlType.F32 : best;
    }

    /**
     * rope_freqs as convert_hf_to_gguf computes it for LLaMA-3.1 rope scaling: per pair, the unscaled frequency divided
     * by the scaled one (1 for short wavelengths, factor for long ones, smoothed between); a GGUF source's own factors.
     */
    static double[] ropeFactors(ModelConfig c) {
        if (c.ropeFreqFactors() != null) return c.ropeFreqFactors();
        if (c.ropeScaling == null) return null;
        double[] scaled = c.ropeInvFreq();
        double[] f = new double[scaled.length];
        for (int i = 0; i < f.length; i++) f[i] = (1.0 / Math.pow(c.ropeTheta, (2.0 * i) / c.headDim)) / scaled[i];
        return f;
    }

    /** The vocabulary padded to the model's size with [PAD{id}] UNUSED tokens, as convert_hf_to_gguf pads it. */
    static GgufVocab padded(GgufVocab v, int size) {
        int n = v.tokens.length;
        if (n == size) return v;
        String[] tokens = java.util.Arrays.copyOf(v.tokens, size);
        float[] scores = java.util.Arrays.copyOf(v.scores, size);
        int[] types = java.util.Arrays.copyOf(v.types, size);
        for (int i = n; i < size; i++) {
            tokens[i] = "[PAD" + i + "]";
            scores[i] = -1000f;
            types[i] = GgufVocab.UNUSED;
        }
        return new GgufVocab(v.model, v.pre, tokens, scores, types, v.merges, v.bos, v.eos, v.unk, v.addBos, v.addSpacePrefix, "padded");
    }

    /** The tensor's bytes in {@code type}: its stored bytes when the types agree, else converted row by row. */
    private static GgufWriter.Data data(Tensor t, GgmlType type) {
        if (type.dtype() == t.dtype()) return t::writeTo;
        return ch -> {
            int cols = (int) (t.rank() == 1 ? t.dim(0) : t.cols());
            long rows = t.rank() == 1 ? 1 : t.rows();
            float[] row = new float[cols];
            ByteBuffer out = ByteBuffer.allocate((int) type.rowBytes(cols)).order(ByteOrder.LITTLE_ENDIAN);
            for (long r = 0; r < rows; r++) {
                t.rowToFloat(r, 0, row, 0, cols);
                out.clear();
                encode(row, type, out);
                out.flip();
                GgufWriter.writeFully(ch, out);
            }
        };
    }

    private static void encode(float[] row, GgmlType type, ByteBuffer out) {
        switch (type) {
            case F32: for (float v : row) out.putFloat(v); break;
            case F16: for (float v : row) out.putShort(DType.floatToF16(v)); break;
            case BF16: for (float v : row) out.putShort(DType.floatToBf16(v)); break;
            default: GgufQ8_0.quantizeRow(row, 0, row.length, out);
        }
    }
}
