package sleb.model;

import java.util.List;

/**
 * One GGUF metadata value with its GGUF type (gguf.h's enum gguf_type). Integers are held as Long (UINT64 values
 * above 2^63 wrap, as Java's long), floats as Double, BOOL as Boolean, STRING as String, ARRAY as a List of such
 * values all of type {@link #elemType}.
 */
public final class GgufValue {
    public static final int UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
            STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;
    private static final String[] NAMES = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING",
            "ARRAY", "UINT64", "INT64", "FLOAT64"};

    public final int type;
    /** Element type of an ARRAY, -1 otherwise. */
    public final int elemType;
    public final Object value;

    private GgufValue(int type, int elemType, Object value) {
        this.type = type;
        this.elemType = elemType;
        this.value = value;
    }

    public static GgufValue of(int type, Object value) {
        if (type == ARRAY || type < 0 || type > FLOAT64) throw new IllegalArgumentException("scalar type " + type);
        return new GgufValue(type, -1, value);
    }

    public static GgufValue array(int elemType, List<?> values) {
        if (elemType == ARRAY || elemType < 0 || elemType > FLOAT64) throw new IllegalArgumentException("array element type " + elemType);
        return new GgufValue(ARRAY, elemType, List.copyOf(values));
    }

    public static GgufValue u32(long v) { return of(UINT32, v); }
    public static GgufValue f32(double v) { return of(FLOAT32, (double) (float) v); }
    public static GgufValue str(String s) { return of(STRING, s); }
    public static GgufValue bool(boolean b) { return of(BOOL, b); }

    public static boolean isInteger(int t) { return t <= INT32 || t == UINT64 || t == INT64; }

    public static String typeName(int t) { return t >= 0 && t < NAMES.length ? NAMES[t] : "type " + t; }

    @SuppressWarnings("unchecked")
    public List<Object> list() { return (List<Object>) value; }

    @Override
    public String toString() {
        if (type != ARRAY) return typeName(type) + " " + value;
        return "ARRAY of " + list().size() + " " + typeName(elemType);
    }
}
