package sleb.model;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One open GGUF file, version 2 or 3, as ggml's docs/gguf.md and gguf.cpp define it (little-endian): magic "GGUF",
 * uint32 version, uint64 tensor count, uint64 metadata count, the metadata key/value pairs, the tensor infos (name,
 * uint32 n_dims, uint64 ne[n_dims] fastest dimension first, uint32 ggml type, uint64 offset into the data section),
 * then padding to {@code general.alignment} (default 32) and the data section. Tensor data is memory-mapped on request;
 * the channel stays open until {@link #close()}. A corrupt or truncated file is refused with one line.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    /** One tensor's description; {@link #shape()} is the row-major shape, ne[] reversed. */
    public static final class TensorInfo {
        public final String name;
        public final long[] ne;
        public final int typeId;
        public final long offset;

        TensorInfo(String name, long[] ne, int typeId, long offset) {
            this.name = name;
            this.ne = ne;
            this.typeId = typeId;
            this.offset = offset;
        }

        public long[] shape() {
            long[] s = new long[ne.length];
            for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
            return s;
        }

        public long numel() { return Tensor.numel(ne); }

        /** Bytes of the data, or -1 for a type SLEB-J does not know the size of. */
        public long byteSize() {
            GgmlType t = GgmlType.of(typeId);
            if (t == null || ne.length == 0) return t == null ? -1 : t.blockBytes;
            return t.rowBytes(ne[0]) * (numel() / Math.max(1, ne[0]));
        }

        public String typeName() { return GgmlType.name(typeId); }
    }

    private final Path file;
    private final FileChannel ch;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;
    private final int alignment;

    private GgufFile(Path file, FileChannel ch, int version, Map<String, GgufValue> metadata, Map<String, TensorInfo> tensors,
                     long dataStart, int alignment) {
        this.file = file;
        this.ch = ch;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataStart = dataStart;
        this.alignment = alignment;
    }

    /** Whether the file starts with the GGUF magic (false when unreadable or too short). */
    public static boolean looksLikeGguf(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) if (c.read(b) < 0) return false;
            return b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    public static GgufFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new ModelFormatException("GGUF file " + file + " does not exist");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE)).order(ByteOrder.LITTLE_ENDIAN);
            Reader r = new Reader(b, file);
            try {
                if (size < 24 || b.getInt() != MAGIC)
                    throw new ModelFormatException(file + " is not a GGUF file (no \"GGUF\" magic at its start)");
                int version = b.getInt();
                if (version != 2 && version != 3)
                    throw new ModelFormatException(file + " is GGUF version " + version + "; SLEB-J reads versions 2 and 3, convert it with a current llama.cpp");
                long nTensors = b.getLong(), nKv = b.getLong();
                if (nTensors < 0 || nKv < 0 || nTensors > size / 8 || nKv > size / 8)
                    throw new ModelFormatException(file + " is truncated or corrupt: its header claims " + Long.toUnsignedString(nTensors) + " tensors and "
                            + Long.toUnsignedString(nKv) + " metadata pairs, impossible in " + size + " bytes; re-download or re-export it");
                Map<String, GgufValue> meta = new LinkedHashMap<>();
                for (long i = 0; i < nKv; i++) {
                    String key = r.string();
                    GgufValue v = r.value(b.getInt());
                    if (meta.put(key, v) != null) throw new ModelFormatException(file + ": metadata key " + key + " appears twice; the file is corrupt");
                }
                int alignment = DEFAULT_ALIGNMENT;
                GgufValue al = meta.get("general.alignment");
                if (al != null) {
                    long a = al.type == GgufValue.UINT32 ? (Long) al.value : -1;
                    if (a <= 0 || a > 1 << 20 || Long.bitCount(a) != 1)
                        throw new ModelFormatException(file + ": general.alignment " + al + " is not a power-of-two UINT32; the file is corrupt");
                    alignment = (int) a;
                }
                Map<String, TensorInfo> infos = new LinkedHashMap<>();
                for (long i = 0; i < nTensors; i++) {
                    String name = r.string();
                    int nDims = b.getInt();
                    if (nDims < 0 || nDims > MAX_DIMS) throw new ModelFormatException(file + ": tensor " + name + " has " + nDims + " dimensions (ggml allows 1 to 4); the file is corrupt");
                    long[] ne = new long[nDims];
                    for (int d = 0; d < nDims; d++) {
                        ne[d] = b.getLong();
                        if (ne[d] < 0) throw new ModelFormatException(file + ": tensor " + name + " has a negative dimension; the file is corrupt");
                    }
                    int type = b.getInt();
                    long off = b.getLong();
                    TensorInfo t = new TensorInfo(name, ne, type, off);
                    GgmlType gt = GgmlType.of(type);
                    if (gt != null && nDims > 0 && ne[0] % gt.blockElems != 0)
                        throw new ModelFormatException(file + ": tensor " + name + " of type " + gt + " has rows of " + ne[0] + " elements, not a multiple of " + gt.blockElems);
                    if (off < 0 || off % alignment != 0)
                        throw new ModelFormatException(file + ": tensor " + name + " starts at offset " + off + ", not a multiple of the alignment " + alignment + "; the file is corrupt");
                    if (infos.put(name, t) != null) throw new ModelFormatException(file + ": tensor " + name + " appears twice; the file is corrupt");
                }
                long dataStart = (b.position() + alignment - 1) / alignment * alignment;
                for (TensorInfo t : infos.values()) {
                    long n = t.byteSize();
                    if (n >= 0 && dataStart + t.offset + n > size)
                        throw new ModelFormatException(file + " is truncated: tensor " + t.name + " ends at byte " + (dataStart + t.offset + n)
                                + " of a " + size + "-byte file; re-download or re-export it");
                }
                return new GgufFile(file, ch, version, meta, infos, dataStart, alignment);
            } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
                throw new ModelFormatException(file + " is truncated inside its GGUF header (" + size + " bytes); re-download or re-export it");
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Reads GGUF strings and values from the mapped header. */
    private static final class Reader {
        private final ByteBuffer b;
        private final Path file;

        Reader(ByteBuffer b, Path file) {
            this.b = b;
            this.file = file;
        }

        String string() {
            long n = b.getLong();
            if (n < 0 || n > b.remaining()) throw new BufferUnderflowException();
            byte[] s = new byte[(int) n];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        GgufValue value(int type) {
            if (type == GgufValue.ARRAY) {
                int et = b.getInt();
                long n = b.getLong();
                if (et == GgufValue.ARRAY) throw new ModelFormatException(file + ": nested GGUF arrays are not supported");
                if (et < 0 || et > GgufValue.FLOAT64) throw new ModelFormatException(file + ": metadata array of unknown type " + et + "; the file is corrupt");
                if (n < 0 || n > b.remaining()) throw new BufferUnderflowException();
                List<Object> vs = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) vs.add(scalar(et));
                return GgufValue.array(et, vs);
            }
            if (type < 0 || type > GgufValue.FLOAT64) throw new ModelFormatException(file + ": metadata value of unknown type " + type + "; the file is corrupt");
            return GgufValue.of(type, scalar(type));
        }

        private Object scalar(int t) {
            switch (t) {
                case GgufValue.UINT8: return (long) (b.get() & 0xff);
                case GgufValue.INT8: return (long) b.get();
                case GgufValue.UINT16: return (long) (b.getShort() & 0xffff);
                case GgufValue.INT16: return (long) b.getShort();
                case GgufValue.UINT32: return b.getInt() & 0xffffffffL;
                case GgufValue.INT32: return (long) b.getInt();
                case GgufValue.FLOAT32: return (double) b.getFloat();
                case GgufValue.BOOL: return b.get() != 0;
                case GgufValue.STRING: return string();
                case GgufValue.UINT64: case GgufValue.INT64: return b.getLong();
                case GgufValue.FLOAT64: return b.getDouble();
                default: throw new ModelFormatException(file + ": metadata value of unknown type " + t);
            }
        }
    }

    public Path path() { return file; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    /** File offset of the data section; a tensor's bytes start at dataStart() + its offset. */
    public long dataStart() { return dataStart; }
    public Map<String, GgufValue> metadata() { return metadata; }
    public Map<String, TensorInfo> tensorInfos() { return tensors; }
    public boolean has(String tensor) { return tensors.containsKey(tensor); }
    public GgufValue get(String key) { return metadata.get(key); }

    /** A string value; null when absent; refused when of another type. */
    public String string(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (v.type != GgufValue.STRING) throw wrongType(key, v, "a STRING");
        return (String) v.value;
    }

    /** An integer value of any integer type, or {@code dflt} when absent. */
    public long integer(String key, long dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) return dflt;
        if (!GgufValue.isInteger(v.type)) throw wrongType(key, v, "an integer");
        return (Long) v.value;
    }

    /** A required integer value. */
    public long integer(String key) {
        if (!metadata.containsKey(key)) throw new ModelFormatException(file + " lacks the metadata key " + key + "; the file is incomplete");
        return integer(key, 0);
    }

    /** A FLOAT32/FLOAT64 value, or {@code dflt} when absent. */
    public double real(String key, double dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) return dflt;
        if (v.type != GgufValue.FLOAT32 && v.type != GgufValue.FLOAT64) throw wrongType(key, v, "a float");
        return (Double) v.value;
    }

    public Boolean bool(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        if (v.type != GgufValue.BOOL) throw wrongType(key, v, "a BOOL");
        return (Boolean) v.value;
    }

    /** An array value of the given element kind (STRING, a float or an integer type); null when absent. */
    public List<Object> array(String key, String kind) {
        GgufValue v = metadata.get(key);
        if (v == null) return null;
        boolean ok = v.type == GgufValue.ARRAY && (kind.equals("STRING") ? v.elemType == GgufValue.STRING
                : kind.equals("float") ? v.elemType == GgufValue.FLOAT32 || v.elemType == GgufValue.FLOAT64 : GgufValue.isInteger(v.elemType));
        if (!ok) throw wrongType(key, v, "an array of " + kind);
        return v.list();
    }

    private ModelFormatException wrongType(String key, GgufValue v, String want) {
        return new ModelFormatException(file + ": metadata " + key + " is " + v + ", expected " + want + "; the file is corrupt");
    }

    /**
     * The tensor in a form the backends compute with: F32/F16/BF16 mapped without copying, Q8_0 dequantized to F32
     * on the heap (exactly: each value is the fp16 scale times an int8). Other types are refused, naming them.
     */
    public Tensor tensor(String ggufName, String asName) throws IOException {
        TensorInfo t = tensors.get(ggufName);
        if (t == null) throw new ModelFormatException("tensor " + ggufName + " is not in " + file);
        GgmlType gt = GgmlType.of(t.typeId);
        if (gt == null)
            throw new ModelFormatException(file + ": tensor " + ggufName + " has type " + t.typeName() + "; SLEB-J reads F32, F16, BF16 and Q8_0"
                    + " GGUF tensors, requantize with llama-quantize (e.g. to Q8_0 or F16) or convert from the original weights");
        long[] shape = t.shape();
        long start = dataStart + t.offset;
        if (gt == GgmlType.Q8_0) return GgufQ8_0.dequantize(ch, asName, shape, start);
        return MappedTensors.map(ch, asName, gt.dtype(), shape, start);
    }

    @Override
    public void close() throws IOException { ch.close(); }
}
