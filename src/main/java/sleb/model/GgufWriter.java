package sleb.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import sleb.util.AtomicFiles;

/**
 * Writes a GGUF v3 file as gguf.cpp's gguf_write_to_file lays it out: header, metadata in the order given, tensor
 * infos with offsets aligned to {@link GgufFile#DEFAULT_ALIGNMENT} (32), zero padding to the data section, each
 * tensor's bytes followed by zero padding to the alignment. Written to a temporary file beside the target, then renamed.
 */
public final class GgufWriter {
    /** Writes exactly {@link Entry#bytes} bytes of one tensor, rows in row-major order (ggml's ne[1..] slowest). */
    public interface Data {
        void write(FileChannel ch) throws IOException;
    }

    /** One tensor: its GGUF name, ggml type, row-major shape and bytes. */
    public static final class Entry {
        final String name;
        final GgmlType type;
        final long[] shape;
        final Data data;

        public Entry(String name, GgmlType type, long[] shape, Data data) {
            this.name = name;
            this.type = type;
            this.shape = shape.clone();
            this.data = data;
        }

        long bytes() {
            long cols = shape[shape.length - 1];
            return type.rowBytes(cols) * (Tensor.numel(shape) / cols);
        }
    }

    private GgufWriter() {}

    public static void write(Path file, Map<String, GgufValue> metadata, List<Entry> tensors) throws IOException {
        int align = GgufFile.DEFAULT_ALIGNMENT;
        Le h = new Le();
        h.i32(GgufFile.MAGIC).i32(3).i64(tensors.size()).i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.str(e.getKey());
            h.i32(e.getValue().type);
            h.value(e.getValue());
        }
        long offset = 0;
        for (Entry t : tensors) {
            h.str(t.name).i32(t.shape.length);
            for (int d = t.shape.length - 1; d >= 0; d--) h.i64(t.shape[d]);
            h.i32(t.type.id).i64(offset);
            offset = pad(offset + t.bytes(), align);
        }
        byte[] header = h.bytes();
        Path abs = file.toAbsolutePath();
        Path tmp = AtomicFiles.newTempFile(abs.getParent(), "." + abs.getFileName() + ".");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, ByteBuffer.wrap(header));
                zeros(ch, pad(header.length, align) - header.length);
                for (Entry t : tensors) {
                    long before = ch.position();
                    t.data.write(ch);
                    long n = ch.position() - before;
                    if (n != t.bytes()) throw new IOException("tensor " + t.name + " wrote " + n + " bytes, expected " + t.bytes());
                    zeros(ch, pad(n, align) - n);
                }
                ch.force(true);
            }
            AtomicFiles.move(tmp, abs);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static long pad(long n, int align) { return (n + align - 1) / align * align; }

    private static void zeros(FileChannel ch, long n) throws IOException {
        writeFully(ch, ByteBuffer.allocate((int) n));
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** A little-endian byte sink for the header. */
    private static final class Le {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Le i32(int v) { b.clear(); b.putInt(v); out.write(b.array(), 0, 4); return this; }
        Le i64(long v) { b.clear(); b.putLong(v); out.write(b.array(), 0, 8); return this; }

        Le str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i64(u.length);
            out.write(u, 0, u.length);
            return this;
        }

        void value(GgufValue v) {
            if (v.type == GgufValue.ARRAY) {
                i32(v.elemType);
                i64(v.list().size());
                for (Object o : v.list()) scalar(v.elemType, o);
            } else {
                scalar(v.type, v.value);
            }
        }

        private void scalar(int t, Object o) {
            switch (t) {
                case GgufValue.UINT8: case GgufValue.INT8: out.write((int) (long) (Long) o); break;
                case GgufValue.UINT16: case GgufValue.INT16: { long x = (Long) o; out.write((int) x & 0xff); out.write((int) (x >> 8) & 0xff); break; }
                case GgufValue.UINT32: case GgufValue.INT32: i32((int) (long) (Long) o); break;
                case GgufValue.FLOAT32: i32(Float.floatToRawIntBits((float) (double) (Double) o)); break;
                case GgufValue.BOOL: out.write((Boolean) o ? 1 : 0); break;
                case GgufValue.STRING: str((String) o); break;
                case GgufValue.UINT64: case GgufValue.INT64: i64((Long) o); break;
                case GgufValue.FLOAT64: i64(Double.doubleToRawLongBits((Double) o)); break;
                default: throw new IllegalArgumentException("GGUF value type " + t);
            }
        }

        byte[] bytes() { return out.toByteArray(); }
    }
}
