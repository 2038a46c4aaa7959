package sleb.model;

/** Storage types of weight tensors. Arithmetic is always fp32 or wider. */
public enum DType {
    F32(4), F16(2), BF16(2);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Parses a safetensors dtype string; null when unsupported. */
    public static DType fromSafetensors(String s) {
        switch (s) {
            case "F32": return F32;
            case "F16": return F16;
            case "BF16": return BF16;
            default: return null;
        }
    }

    public String safetensorsName() { return name(); }

    public static float bf16ToFloat(short b) { return Float.intBitsToFloat((b & 0xffff) << 16); }

    /** Round to nearest even, as torch does. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40); // NaN stays NaN
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short h) { return Float.float16ToFloatCompat(h); }

    public static short floatToF16(float f) { return Float.floatToFloat16Compat(f); }

    /** JDK 17 has no Float.float16ToFloat; these are the IEEE binary16 conversions written out. */
    static final class Float {
        static float intBitsToFloat(int b) { return java.lang.Float.intBitsToFloat(b); }
        static int floatToRawIntBits(float f) { return java.lang.Float.floatToRawIntBits(f); }

        static float float16ToFloatCompat(short hbits) {
            int h = hbits & 0xffff;
            int sign = (h >>> 15) << 31;
            int exp = (h >>> 10) & 0x1f;
            int mant = h & 0x3ff;
            if (exp == 0x1f) return java.lang.Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
            if (exp == 0) {
                if (mant == 0) return java.lang.Float.intBitsToFloat(sign);
                float v = mant * 0x1p-24f; // subnormal: mant * 2^-24
                return sign != 0 ? -v : v;
            }
            return java.lang.Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
        }

        static short floatToFloat16Compat(float f) {
            int bits = java.lang.Float.floatToRawIntBits(f);
            int sign = (bits >>> 16) & 0x8000;
            int abs = bits & 0x7fffffff;
            if (abs >= 0x7f800000) return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
            if (abs >= 0x477ff000) return (short) (sign | 0x7c00); // overflow to inf
            if (abs < 0x33000001) return (short) sign;             // underflow to zero
            int exp = abs >>> 23;
            if (exp < 113) { // subnormal half
                int mant = (abs & 0x7fffff) | 0x800000;
                int shift = 126 - exp;
                int half = mant >>> shift;
                int rem = mant & ((1 << shift) - 1);
                int mid = 1 << (shift - 1);
                if (rem > mid || (rem == mid && (half & 1) != 0)) half++;
                return (short) (sign | half);
            }
            int h = ((exp - 112) << 10) | ((abs >>> 13) & 0x3ff);
            int rem = abs & 0x1fff;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) h++;
            return (short) (sign | h);
        }
    }
}
