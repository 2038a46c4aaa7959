package sleb.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file: {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
 * offsets relative to the start of the data region. Parsing checks every entry against the data region's length.
 */
public final class SafetensorsHeader {
    /** One tensor's entry. dtype is the raw safetensors name; {@link #dtype()} is null when SLEB-J cannot use it. */
    public static final class Entry {
        public final String name;
        public final String dtypeName;
        public final long[] shape;
        public final long begin, end;

        Entry(String name, String dtypeName, long[] shape, long begin, long end) {
            this.name = name;
            this.dtypeName = dtypeName;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }

        public DType dtype() { return DType.fromSafetensors(dtypeName); }
    }

    public final Map<String, Entry> entries;
    public final Map<String, String> metadata;

    private SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Element sizes of every dtype the format defines, so that entries we never read can still be checked. */
    static int elementBytes(String dtype) {
        switch (dtype) {
            case "BOOL": case "U8": case "I8": case "F8_E4M3": case "F8_E5M2": return 1;
            case "U16": case "I16": case "F16": case "BF16": return 2;
            case "U32": case "I32": case "F32": return 4;
            case "U64": case "I64": case "F64": return 8;
            default: return -1;
        }
    }

    /** Parses and checks a header; dataLength is the number of bytes after the header. */
    public static SafetensorsHeader parse(byte[] json, Path file, long dataLength) {
        JsonObject root;
        try {
            root = StrictJson.parseObject(new String(json, StandardCharsets.UTF_8));
        } catch (JsonParseException ex) {
            throw new ModelFormatException(file + ": the safetensors header is not valid JSON (" + StrictJson.reason(ex) + "); the file is corrupt, re-download or re-export it");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> kv : root.entrySet()) {
            String name = kv.getKey();
            if (name.equals("__metadata__")) {
                if (kv.getValue().isJsonObject())
                    for (Map.Entry<String, JsonElement> m : kv.getValue().getAsJsonObject().entrySet())
                        metadata.put(m.getKey(), m.getValue().isJsonPrimitive() ? m.getValue().getAsString() : m.getValue().toString());
                continue;
            }
            entries.put(name, parseEntry(name, kv.getValue(), file, dataLength));
        }
        checkOverlaps(entries, file);
        return new SafetensorsHeader(entries, metadata);
    }

    private static Entry parseEntry(String name, JsonElement v, Path file, long dataLength) {
        String dtype;
        long[] shape;
        long begin, end;
        try {
            JsonObject o = v.getAsJsonObject();
            dtype = o.get("dtype").getAsString();
            JsonArray s = o.get("shape").getAsJsonArray();
            shape = new long[s.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = s.get(i).getAsLong();
            JsonArray off = o.get("data_offsets").getAsJsonArray();
            if (off.size() != 2) throw new IllegalStateException("data_offsets must have two numbers");
            begin = off.get(0).getAsLong();
            end = off.get(1).getAsLong();
        } catch (RuntimeException ex) {
            throw new ModelFormatException(file + ": header entry for tensor " + name + " is malformed (needs dtype, shape and data_offsets [begin, end]); the file is corrupt, re-export it");
        }
        int elem = elementBytes(dtype);
        if (elem < 0)
            throw new ModelFormatException(file + ": tensor " + name + " has unknown dtype " + dtype + "; SLEB-J reads F32, F16 and BF16, convert the model");
        long bytes;
        try {
            long numel = 1;
            for (long d : shape) {
                if (d < 0) throw new ArithmeticException();
                numel = Math.multiplyExact(numel, d);
            }
            bytes = Math.multiplyExact(numel, (long) elem);
        } catch (ArithmeticException ex) {
            throw new ModelFormatException(file + ": tensor " + name + " has an impossible shape " + java.util.Arrays.toString(shape) + "; the header is corrupt, re-export the file");
        }
        if (begin < 0 || end < begin)
            throw new ModelFormatException(file + ": tensor " + name + " has invalid data_offsets [" + begin + ", " + end + "]; the header is corrupt, re-export the file");
        if (end > dataLength)
            throw new ModelFormatException(file + " is truncated or corrupt: tensor " + name + " data_offsets [" + begin + ", " + end
                    + "] are out of range, the data region holds only " + dataLength + " bytes; re-download or re-export it");
        if (end - begin != bytes)
            throw new ModelFormatException(file + ": tensor " + name + " (" + dtype + " " + java.util.Arrays.toString(shape) + ") needs " + bytes
                    + " bytes but its data_offsets [" + begin + ", " + end + "] span " + (end - begin) + "; the header is corrupt, re-export the file");
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkOverlaps(Map<String, Entry> entries, Path file) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.end == e.begin) continue; // empty tensors occupy no bytes
            if (prev != null && e.begin < prev.end)
                throw new ModelFormatException(file + ": tensors " + prev.name + " [" + prev.begin + ", " + prev.end + "] and " + e.name
                        + " [" + e.begin + ", " + e.end + "] overlap; the header is corrupt, re-export the file");
            prev = e;
        }
    }
}
