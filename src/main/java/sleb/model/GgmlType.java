package sleb.model;

/**
 * ggml tensor types as GGUF stores them (ggml.h's enum ggml_type). SLEB-J reads and writes F32, F16, BF16 and
 * Q8_0; every other id is known by name only, so a refusal can say what the file holds.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q8_0(8, 32, 34), BF16(30, 1, 2);

    private static final String[] NAMES = new String[39];
    static {
        String[] n = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K",
                "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8",
                "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)",
                "TQ1_0", "TQ2_0", "IQ4_NL_4_4 (removed)", "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)"};
        System.arraycopy(n, 0, NAMES, 0, n.length);
    }

    /** ggml's type id. */
    public final int id;
    /** Elements per block (1 for float types, 32 for Q8_0). */
    public final int blockElems;
    /** Bytes per block. */
    public final int blockBytes;

    GgmlType(int id, int blockElems, int blockBytes) {
        this.id = id;
        this.blockElems = blockElems;
        this.blockBytes = blockBytes;
    }

    /** The supported type with this id, or null. */
    public static GgmlType of(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    /** ggml's name for any type id ("Q4_K"), or "unknown type N". */
    public static String name(int id) {
        return id >= 0 && id < NAMES.length ? NAMES[id] : "unknown type " + id;
    }

    /** Bytes of one row of {@code elems} elements; elems must be a multiple of {@link #blockElems}. */
    public long rowBytes(long elems) { return elems / blockElems * blockBytes; }

    /** The float dtype with the same storage, or null for Q8_0. */
    public DType dtype() {
        switch (this) {
            case F32: return DType.F32;
            case F16: return DType.F16;
            case BF16: return DType.BF16;
            default: return null;
        }
    }

    public static GgmlType of(DType d) {
        switch (d) {
            case F32: return F32;
            case F16: return F16;
            default: return BF16;
        }
    }
}
