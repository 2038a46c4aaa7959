package sleb.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named weight tensor in its stored dtype, row-major, backed by one or more little-endian byte
 * buffers (usually memory-mapped file regions). Large tensors are split into chunks of whole rows so
 * that no chunk passes the 2 GiB limit of a ByteBuffer.
 */
public final class Tensor {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer[] chunks;
    private final long rowsPerChunk;
    private final long rowElems;

    public Tensor(String name, DType dtype, long[] shape, ByteBuffer[] chunks, long rowsPerChunk) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.chunks = chunks;
        this.rowsPerChunk = rowsPerChunk;
        this.rowElems = shape.length <= 1 ? (shape.length == 0 ? 1 : shape[0]) : numel(shape) / shape[0];
        for (ByteBuffer b : chunks) b.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A tensor held in one heap buffer (tests, synthetic models, conversions). */
    public static Tensor ofFloats(String name, DType dtype, long[] shape, float[] values) {
        if (numel(shape) != values.length) throw new IllegalArgumentException("shape/values mismatch for " + name);
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32: b.putFloat(v); break;
                case BF16: b.putShort(DType.floatToBf16(v)); break;
                case F16: b.putShort(DType.floatToF16(v)); break;
            }
        }
        b.flip();
        long rows = shape.length <= 1 ? 1 : shape[0];
        return new Tensor(name, dtype, shape, new ByteBuffer[] {b}, rows);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public String name() { return name; }
    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long dim(int i) { return shape[i]; }
    public long numel() { return numel(shape); }
    public long byteSize() { return numel() * dtype.bytes; }
    public long rows() { return shape.length <= 1 ? 1 : shape[0]; }
    public long cols() { return rowElems; }

    private ByteBuffer chunkFor(long row) { return chunks[(int) (row / rowsPerChunk)]; }

    /** Element i of the flattened tensor, widened to float. */
    public float get(long i) {
        long row = i / rowElems;
        ByteBuffer b = chunkFor(row);
        int off = (int) (((row % rowsPerChunk) * rowElems + i % rowElems) * dtype.bytes);
        switch (dtype) {
            case F32: return b.getFloat(off);
            case BF16: return DType.bf16ToFloat(b.getShort(off));
            default: return DType.f16ToFloat(b.getShort(off));
        }
    }

    /** Copies the raw stored bits of {@code count} elements of one row into dst (2-byte dtypes). */
    public void rowBits(long row, long start, short[] dst, int dstOff, int count) {
        ByteBuffer b = chunkFor(row).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.position((int) (((row % rowsPerChunk) * rowElems + start) * dtype.bytes));
        b.asShortBuffer().get(dst, dstOff, count);
    }

    /** Copies {@code count} elements of one row, widened to float, into dst. */
    public void rowToFloat(long row, long start, float[] dst, int dstOff, int count) {
        ByteBuffer b = chunkFor(row).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.position((int) (((row % rowsPerChunk) * rowElems + start) * dtype.bytes));
        if (dtype == DType.F32) {
            b.asFloatBuffer().get(dst, dstOff, count);
        } else {
            short[] tmp = new short[count];
            b.asShortBuffer().get(tmp, 0, count);
            if (dtype == DType.BF16) for (int i = 0; i < count; i++) dst[dstOff + i] = DType.bf16ToFloat(tmp[i]);
            else for (int i = 0; i < count; i++) dst[dstOff + i] = DType.f16ToFloat(tmp[i]);
        }
    }

    /** The whole tensor widened to float (small tensors only: norms, biases, tests). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException(name + " is too large for one float array");
        float[] out = new float[(int) n];
        long rows = rows();
        for (long r = 0; r < rows; r++) rowToFloat(r, 0, out, (int) (r * rowElems), (int) rowElems);
        return out;
    }

    /** The raw bytes of the tensor, in file order (for exporting). */
    public void writeTo(java.nio.channels.WritableByteChannel ch) throws java.io.IOException {
        for (ByteBuffer c : chunks) {
            ByteBuffer d = c.duplicate();
            d.position(0);
            while (d.hasRemaining()) ch.write(d);
        }
    }

    @Override
    public String toString() { return name + " " + dtype + " " + Arrays.toString(shape); }
}
