package sleb.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * ggml's Q8_0: blocks of 32 values along a row, each stored as an fp16 scale d then 32 int8 q, value = d * q.
 * Quantizing follows ggml-quants.c quantize_row_q8_0_ref exactly: amax = max |x|, d = amax / 127,
 * id = d != 0 ? 1/d : 0, q = roundf(x * id) (halves away from zero), d stored as fp16 (round to nearest even).
 */
public final class GgufQ8_0 {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;

    private GgufQ8_0() {}

    /** Quantizes one row (length a multiple of 32) into {@code out} at its position. */
    public static void quantizeRow(float[] x, int off, int n, ByteBuffer out) {
        if (n % BLOCK != 0) throw new IllegalArgumentException("Q8_0 rows need a multiple of 32 elements, got " + n);
        for (int i = off; i < off + n; i += BLOCK) {
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(x[i + j]));
            float d = amax / 127;
            float id = d != 0f ? 1.0f / d : 0f;
            out.putShort(DType.floatToF16(d));
            for (int j = 0; j < BLOCK; j++) out.put((byte) roundf(x[i + j] * id));
        }
    }

    /** C's roundf: halfway cases away from zero (Math.round rounds them up). */
    static int roundf(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));
    }

    /** Dequantizes one row of {@code n} values from {@code in} at its position into dst. */
    public static void dequantizeRow(ByteBuffer in, float[] dst, int off, int n) {
        for (int i = off; i < off + n; i += BLOCK) {
            float d = DType.f16ToFloat(in.getShort());
            for (int j = 0; j < BLOCK; j++) dst[i + j] = d * in.get();
        }
    }

    /** Reads a Q8_0 tensor of row-major {@code shape} at {@code offset} and returns it dequantized to F32. */
    static Tensor dequantize(FileChannel ch, String name, long[] shape, long offset) throws IOException {
        long n = Tensor.numel(shape);
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (n * 4 > Integer.MAX_VALUE - 8)
            throw new ModelFormatException(name + ": a Q8_0 tensor of " + n + " values is too large to dequantize into one buffer (2 GiB)");
        long bytes = n / BLOCK * BLOCK_BYTES;
        ByteBuffer in = ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[(int) n];
        for (long r = 0; r < n / cols; r++) dequantizeRow(in, v, (int) (r * cols), (int) cols);
        return Tensor.ofFloats(name, DType.F32, shape, v);
    }
}
