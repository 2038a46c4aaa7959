package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;

/** The GGUF container: Q8_0 as ggml quantizes it, metadata of every type, the layout, and one-line refusals of bad files. */
public class GgufFileTest {
    /** Hand-computed block: amax 7.9375 gives d = 0.0625 (exact in fp16, bits 0x2C00), so x*id is exact and roundf's halves show. */
    @Test
    public void q8_0QuantizesAsGgmlWithHalvesAwayFromZero() {
        float[] x = new float[64];
        x[0] = 7.9375f;     // 127 * d
        x[1] = -0.15625f;   // -2.5 d -> -3 (Math.round would give -2)
        x[2] = 0.09375f;    // 1.5 d -> 2
        x[3] = 0.03125f;    // 0.5 d -> 1 (rint would give 0)
        x[4] = -7.9375f;    // -127
        // second block all zero: d = 0, id = 0, q = 0
        ByteBuffer b = ByteBuffer.allocate(2 * GgufQ8_0.BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        GgufQ8_0.quantizeRow(x, 0, 64, b);
        b.flip();
        assertEquals(b.getShort(0), (short) 0x2C00);
        assertEquals(new byte[] {b.get(2), b.get(3), b.get(4), b.get(5), b.get(6), b.get(7)}, new byte[] {127, -3, 2, 1, -127, 0});
        assertEquals(b.getShort(34), (short) 0);
        float[] back = new float[64];
        GgufQ8_0.dequantizeRow(b, back, 0, 64);
        assertEquals(Arrays.copyOf(back, 6), new float[] {7.9375f, -0.1875f, 0.125f, 0.0625f, -7.9375f, 0f});
        for (int i = 32; i < 64; i++) assertEquals(back[i], 0f);
    }

    @Test
    public void metadataOfEveryTypeRoundTripsWithTheLayoutGgufDefines() throws Exception {
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("u8", GgufValue.of(GgufValue.UINT8, 200L));
        meta.put("i8", GgufValue.of(GgufValue.INT8, -5L));
        meta.put("u16", GgufValue.of(GgufValue.UINT16, 65000L));
        meta.put("i16", GgufValue.of(GgufValue.INT16, -300L));
        meta.put("u32", GgufValue.u32(4000000000L));
        meta.put("i32", GgufValue.of(GgufValue.INT32, -7L));
        meta.put("f32", GgufValue.f32(0.1));
        meta.put("bool", GgufValue.bool(true));
        meta.put("str", GgufValue.str("caf\u00e9 \u2581"));
        meta.put("u64", GgufValue.of(GgufValue.UINT64, 1L << 40));
        meta.put("i64", GgufValue.of(GgufValue.INT64, -(1L << 40)));
        meta.put("f64", GgufValue.of(GgufValue.FLOAT64, Math.PI));
        meta.put("arr", GgufValue.array(GgufValue.STRING, List.of("a", "bc")));
        Tensor t = Tensor.ofFloats("x", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        Path f = Files.createTempDirectory("gguf").resolve("t.gguf");
        GgufWriter.write(f, meta, List.of(new GgufWriter.Entry("x", GgmlType.F32, t.shape(), t::writeTo)));
        byte[] all = Files.readAllBytes(f);
        ByteBuffer h = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(new String(all, 0, 4, StandardCharsets.US_ASCII), "GGUF");
        assertEquals(h.getInt(4), 3);
        assertEquals(h.getLong(8), 1L);   // tensors
        assertEquals(h.getLong(16), 13L); // metadata pairs
        assertEquals(h.getLong(24), 2L);  // first key's length, "u8"
        assertEquals(all.length % 32, 0); // data section and tensor padded to the default alignment
        try (GgufFile g = GgufFile.open(f)) {
            for (Map.Entry<String, GgufValue> e : meta.entrySet()) {
                GgufValue got = g.get(e.getKey());
                assertEquals(got.type, e.getValue().type, e.getKey());
                assertEquals(got.value, e.getValue().value, e.getKey());
            }
            GgufFile.TensorInfo info = g.tensorInfos().get("x");
            assertEquals(info.ne, new long[] {3, 2}); // ggml's ne: fastest dimension first
            assertEquals(g.tensor("x", "x").toFloatArray(), new float[] {1, 2, 3, 4, 5, 6});
            assertEquals(all.length - 32, (int) (Files.size(f) - 32));
            assertEquals(h.getFloat(all.length - 32), 1f); // the one tensor sits at the data section's start
        }
    }

    private static Path exportedStories(String outType) throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path out = Files.createTempDirectory("gguf").resolve("e");
        try (Model m = ModelLoader.load(bin)) {
            Exporter.export(m, BlockSelection.removing(5, List.of()), out, "gguf", bin.resolveSibling("tok512.bin"), outType);
        }
        return out.resolve(Exporter.GGUF_FILE);
    }

    @Test
    public void badFilesAreRefusedInOneLine() throws Exception {
        Path good = exportedStories("q8_0");
        byte[] all = Files.readAllBytes(good);
        Path dir = Files.createTempDirectory("gguf-bad");

        Path cutData = dir.resolve("cut-data.gguf");
        Files.write(cutData, Arrays.copyOf(all, all.length - 1000));
        CliRun.run("info", "--model", cutData.toString()).assertErrorLine("cut in the data", "is truncated: tensor");

        Path cutHeader = dir.resolve("cut-header.gguf");
        Files.write(cutHeader, Arrays.copyOf(all, 3000));
        CliRun.run("info", "--model", cutHeader.toString()).assertErrorLine("cut in the header", "truncated inside its GGUF header");

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "this is not a model, just text long enough to pass the size check");
        CliRun.run("info", "--model", junk.toString()).assertErrorLine("not GGUF", "is not a GGUF file");

        // blk.0.attn_q.weight's type id (after name, n_dims, two ne) patched from Q8_0 (8) to Q4_K (12)
        byte[] q4k = all.clone();
        byte[] name = "blk.0.attn_q.weight".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(q4k, name) + name.length + 4 + 16;
        assertEquals(ByteBuffer.wrap(q4k).order(ByteOrder.LITTLE_ENDIAN).getInt(at), 8);
        ByteBuffer.wrap(q4k).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 12);
        Path typed = dir.resolve("q4k.gguf");
        Files.write(typed, q4k);
        CliRun.run("info", "--model", typed.toString()).assertErrorLine("Q4_K tensor", "has type Q4_K; SLEB-J reads F32, F16, BF16 and Q8_0");

        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.str("qwen2"));
        Path arch = dir.resolve("qwen2.gguf");
        GgufWriter.write(arch, meta, List.of());
        CliRun.run("info", "--model", arch.toString()).assertErrorLine("other architecture", "architecture 'qwen2'; SLEB-J reads the 'llama' architecture only");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
