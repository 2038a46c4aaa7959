package sleb.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/** Writes tensors, in their stored dtypes and in the order given, as one safetensors file. */
public final class SafetensorsWriter {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private SafetensorsWriter() {}

    /** Writes to a temporary file in the same directory, then renames it over {@code file}, so readers never see half a file. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        byte[] header = header(tensors);
        Path abs = file.toAbsolutePath();
        Path tmp = sleb.util.AtomicFiles.newTempFile(abs.getParent(), abs.getFileName().toString() + ".");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Tensor t : tensors.values()) {
                    long before = ch.position();
                    t.writeTo(ch);
                    if (ch.position() - before != t.byteSize())
                        throw new IOException("tensor " + t.name() + " wrote " + (ch.position() - before) + " bytes, expected " + t.byteSize());
                }
                ch.force(true);
            }
            sleb.util.AtomicFiles.move(tmp, abs);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The header JSON, padded with spaces so that the data region starts 8-byte aligned. */
    static byte[] header(Map<String, Tensor> tensors) {
        JsonObject root = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        root.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            for (long d : t.shape()) shape.add(d);
            o.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            offset += t.byteSize();
            off.add(offset);
            o.add("data_offsets", off);
            root.add(e.getKey(), o);
        }
        byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
