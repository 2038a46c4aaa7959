package sleb.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * One open safetensors file: 8-byte little-endian header length N, N bytes of JSON header, then the data region.
 * Tensors are memory-mapped on request; the channel stays open until {@link #close()}.
 */
public final class SafetensorsFile implements AutoCloseable {
    static final long MAX_HEADER = 100L << 20;

    private final Path file;
    private final FileChannel ch;
    private final SafetensorsHeader header;
    private final long dataStart;

    private SafetensorsFile(Path file, FileChannel ch, SafetensorsHeader header, long dataStart) {
        this.file = file;
        this.ch = ch;
        this.header = header;
        this.dataStart = dataStart;
    }

    public static SafetensorsFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new ModelFormatException("safetensors file " + file + " does not exist");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) throw new ModelFormatException(file + " is only " + size + " bytes, too short for a safetensors file; re-download or re-export it");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.getLong(0);
            if (n < 2 || n > size - 8 || n > MAX_HEADER)
                throw new ModelFormatException(file + ": safetensors header length " + Long.toUnsignedString(n) + " is absurd for a file of " + size
                        + " bytes (limit " + MAX_HEADER + "); the file is not safetensors or is corrupt, re-download or re-export it");
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(ch, json, 8);
            SafetensorsHeader header = SafetensorsHeader.parse(json.array(), file, size - 8 - n);
            return new SafetensorsFile(file, ch, header, 8 + n);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path path() { return file; }
    public SafetensorsHeader header() { return header; }
    public Set<String> names() { return header.entries.keySet(); }
    public boolean has(String name) { return header.entries.containsKey(name); }

    /** Maps one tensor without copying; fails for dtypes other than F32, F16 and BF16. */
    public Tensor tensor(String name) throws IOException {
        SafetensorsHeader.Entry e = header.entries.get(name);
        if (e == null) throw new ModelFormatException("tensor " + name + " is not in " + file);
        DType dt = e.dtype();
        if (dt == null)
            throw new ModelFormatException(file + ": tensor " + name + " has dtype " + e.dtypeName + "; SLEB-J reads only F32, F16 and BF16 weights, convert the model (e.g. to BF16)");
        return MappedTensors.map(ch, name, dt, e.shape, dataStart + e.begin);
    }

    @Override
    public void close() throws IOException { ch.close(); }
}
