package sleb.model;

import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.testng.annotations.AfterMethod;
import org.testng.annotations.BeforeMethod;
import org.testng.annotations.Test;
import sleb.SharedData;

/** Each way a Hugging Face directory can be broken, on a corrupted copy of stories260K-hf. */
public class HfModelErrorsTest {
    private static final String Q1 = "model.layers.1.self_attn.q_proj.weight";
    private static final String Q0 = "model.layers.0.self_attn.q_proj.weight";

    private Path tmp, dir, st;

    @BeforeMethod
    public void setUp() throws Exception {
        tmp = null;
        Path src = SharedData.require("models/stories260K-hf");
        tmp = Files.createTempDirectory("sleb-hf-err");
        dir = Fixtures.copyDir(src, tmp.resolve("m"));
        st = dir.resolve("model.safetensors");
    }

    @AfterMethod(alwaysRun = true)
    public void tearDown() throws Exception { if (tmp != null) Fixtures.deleteTree(tmp); }

    /** Loading fails with a one-line ModelFormatException containing every fragment. */
    private String fails(String... fragments) {
        ModelFormatException e = expectThrows(ModelFormatException.class, () -> HfModelLoader.load(dir));
        String m = e.getMessage();
        assertTrue(!m.contains("\n"), "one line: " + m);
        for (String f : fragments) assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
        return m;
    }

    private static JsonArray offsets(long a, long b) {
        JsonArray o = new JsonArray();
        o.add(a);
        o.add(b);
        return o;
    }

    private static JsonArray shape(long... dims) {
        JsonArray o = new JsonArray();
        for (long d : dims) o.add(d);
        return o;
    }

    @Test
    public void pristineCopyLoads() throws Exception {
        try (Model m = HfModelLoader.load(dir)) {
            assertTrue(m.config().tiedEmbeddings);
        }
    }

    @Test
    public void missingConfig() throws Exception {
        Files.delete(dir.resolve("config.json"));
        fails(dir.resolve("config.json").toString(), "missing");
    }

    @Test
    public void badConfigJson() throws Exception {
        // Truncated, then lenient-only syntax (single quotes, unquoted names), which Gson accepts by default.
        for (String text : new String[] {"{\"hidden_size\": 64,\n \"architectures\": [\"LlamaForCausalLM\"", "{'hidden_size': 64}", "{hidden_size: 64}"}) {
            Files.writeString(dir.resolve("config.json"), text);
            fails(dir.resolve("config.json").toString(), "not valid JSON");
        }
    }

    @Test
    public void unsupportedArchitecture() throws Exception {
        Fixtures.editConfig(dir, c -> { c.add("architectures", shape()); c.getAsJsonArray("architectures").add("GPT2LMHeadModel"); });
        fails("unsupported architecture GPT2LMHeadModel", "SLEB-J supports LLaMA, Mistral, Qwen2 and OPT decoders");
    }

    @Test
    public void unsupportedRopeScaling() throws Exception {
        Fixtures.editConfig(dir, c -> {
            JsonObject rs = new JsonObject();
            rs.addProperty("type", "linear");
            rs.addProperty("factor", 2.0);
            c.add("rope_scaling", rs);
        });
        fails("rope_scaling type linear is not supported", "llama3");
    }

    @Test
    public void missingRequiredConfigField() throws Exception {
        Fixtures.editConfig(dir, c -> c.remove("vocab_size"));
        fails("lacks vocab_size");
    }

    @Test
    public void missingSafetensors() throws Exception {
        Files.delete(st);
        fails(dir.toString(), "model.safetensors");
    }

    @Test
    public void missingShardNamedByIndex() throws Exception {
        Files.move(st, dir.resolve("model-00001-of-00002.safetensors"));
        JsonObject wm = new JsonObject();
        wm.addProperty("model.embed_tokens.weight", "model-00001-of-00002.safetensors");
        wm.addProperty("model.norm.weight", "model-00002-of-00002.safetensors");
        JsonObject index = new JsonObject();
        index.add("weight_map", wm);
        Fixtures.writeJson(dir.resolve("model.safetensors.index.json"), index);
        fails("model-00002-of-00002.safetensors", "missing");
    }

    @Test
    public void indexPointsToWrongShard() throws Exception {
        Files.move(st, dir.resolve("model-00001-of-00001.safetensors"));
        JsonObject wm = new JsonObject();
        wm.addProperty("model.embed_tokens.weight", "model-00001-of-00001.safetensors");
        wm.addProperty("model.nonexistent.weight", "model-00001-of-00001.safetensors");
        JsonObject index = new JsonObject();
        index.add("weight_map", wm);
        Fixtures.writeJson(dir.resolve("model.safetensors.index.json"), index);
        fails("model.nonexistent.weight", "does not hold it");
    }

    @Test
    public void badIndexJson() throws Exception {
        Files.delete(st);
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": ");
        fails("model.safetensors.index.json", "not a valid safetensors index");
    }

    @Test
    public void absurdHeaderLength() throws Exception {
        for (long n : new long[] {1L << 40, 200L << 20, -5}) {
            try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
                f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
            }
            fails(st.toString(), "header length", "absurd");
        }
    }

    @Test
    public void headerNotJson() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            f.seek(8);
            f.write("#garbage".getBytes(StandardCharsets.US_ASCII));
        }
        fails(st.toString(), "header is not valid JSON");
    }

    @Test
    public void offsetsOutOfRange() throws Exception {
        Fixtures.editHeader(st, h -> h.getAsJsonObject(Q1).add("data_offsets", offsets(1L << 33, (1L << 33) + 64 * 64 * 4)));
        fails(st.toString(), Q1, "out of range");
    }

    @Test
    public void invalidOffsets() throws Exception {
        Fixtures.editHeader(st, h -> h.getAsJsonObject(Q1).add("data_offsets", offsets(100, 50)));
        fails(st.toString(), Q1, "invalid data_offsets");
    }

    @Test
    public void overlappingOffsets() throws Exception {
        Fixtures.editHeader(st, h -> h.getAsJsonObject(Q1).add("data_offsets", h.getAsJsonObject(Q0).get("data_offsets")));
        fails(st.toString(), Q0, Q1, "overlap");
    }

    @Test
    public void sizeDisagreesWithShape() throws Exception {
        Fixtures.editHeader(st, h -> h.getAsJsonObject("model.norm.weight").add("shape", shape(32)));
        fails(st.toString(), "model.norm.weight", "needs 128 bytes", "span 256");
    }

    @Test
    public void truncatedFile() throws Exception {
        long size = Files.size(st);
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            f.setLength(size - 100);
        }
        fails(st.toString(), "truncated");
    }

    @Test
    public void unsupportedDtypes() throws Exception {
        String norm = "model.layers.2.input_layernorm.weight";
        Fixtures.editHeader(st, h -> h.getAsJsonObject(norm).addProperty("dtype", "I32"));
        fails(st.toString(), norm, "dtype I32");
        Fixtures.editHeader(st, h -> { h.getAsJsonObject(norm).addProperty("dtype", "F64"); h.getAsJsonObject(norm).add("shape", shape(32)); });
        fails(norm, "dtype F64");
        Fixtures.editHeader(st, h -> { h.getAsJsonObject(norm).addProperty("dtype", "I8"); h.getAsJsonObject(norm).add("shape", shape(256)); });
        fails(norm, "dtype I8");
        Fixtures.editHeader(st, h -> h.getAsJsonObject(norm).addProperty("dtype", "Q4_K"));
        fails(norm, "unknown dtype Q4_K");
    }

    @Test
    public void unsupportedDtypeOnIgnoredTensorIsFine() throws Exception {
        Fixtures.editHeader(st, h -> {
            JsonObject e = new JsonObject();
            e.addProperty("dtype", "I64");
            e.add("shape", shape(0));
            e.add("data_offsets", offsets(0, 0));
            h.add("model.layers.0.self_attn.rotary_emb.position_ids", e);
        });
        HfModelLoader.load(dir).close();
    }

    private void rewriteWithout(String drop) throws Exception {
        Map<String, Tensor> keep = new LinkedHashMap<>();
        try (Model m = HfModelLoader.load(dir)) {
            for (Tensor t : m.tensors().values()) if (!t.name().equals(drop)) keep.put(t.name(), Tensor.ofFloats(t.name(), t.dtype(), t.shape(), t.toFloatArray()));
        }
        SafetensorsWriter.write(st, keep);
    }

    @Test
    public void missingTensor() throws Exception {
        for (String name : new String[] {"model.layers.2.mlp.up_proj.weight", "model.layers.4.self_attn.v_proj.weight",
                "model.layers.0.post_attention_layernorm.weight", "model.norm.weight", "model.embed_tokens.weight"}) {
            Fixtures.deleteTree(dir);
            Fixtures.copyDir(SharedData.require("models/stories260K-hf"), dir);
            rewriteWithout(name);
            fails(name, "missing", dir.toString());
        }
    }

    @Test
    public void missingLmHeadWhenNotTied() throws Exception {
        Fixtures.editConfig(dir, c -> c.addProperty("tie_word_embeddings", false));
        fails("lm_head.weight", "missing", "tie_word_embeddings");
    }

    @Test
    public void qwen2NeedsBiases() throws Exception {
        Fixtures.editConfig(dir, c -> { c.add("architectures", shape()); c.getAsJsonArray("architectures").add("Qwen2ForCausalLM"); c.addProperty("model_type", "qwen2"); });
        fails("model.layers.0.self_attn.q_proj.bias", "missing");
    }

    @Test
    public void shapeDisagreesWithConfig() throws Exception {
        Fixtures.editConfig(dir, c -> c.addProperty("intermediate_size", 170));
        fails("model.layers.0.mlp.gate_proj.weight", "[172, 64]", "[170, 64]", "config.json");
        Fixtures.editConfig(dir, c -> { c.addProperty("intermediate_size", 172); c.addProperty("num_key_value_heads", 8); });
        fails("model.layers.0.self_attn.k_proj.weight", "[32, 64]", "[64, 64]");
        Fixtures.editConfig(dir, c -> { c.addProperty("num_key_value_heads", 4); c.addProperty("vocab_size", 500); });
        fails("model.embed_tokens.weight", "[512, 64]", "[500, 64]");
    }

    @Test
    public void shapeDisagreesWithConfigInTensor() throws Exception {
        // A [64]-element norm stored as [8, 8]: same size, wrong shape.
        Fixtures.editHeader(st, h -> h.getAsJsonObject("model.layers.3.input_layernorm.weight").add("shape", shape(8, 8)));
        fails("model.layers.3.input_layernorm.weight", "[8, 8]", "[64]");
    }

    @Test
    public void mixedDtypesAreAllowed() throws Exception {
        Map<String, Tensor> mixed = new LinkedHashMap<>();
        try (Model m = HfModelLoader.load(dir)) {
            for (Tensor t : m.tensors().values()) {
                DType dt = t.name().endsWith("norm.weight") ? DType.F32 : DType.BF16;
                mixed.put(t.name(), Tensor.ofFloats(t.name(), dt, t.shape(), t.toFloatArray()));
            }
        }
        SafetensorsWriter.write(st, mixed);
        try (Model m = HfModelLoader.load(dir)) {
            assertTrue(m.finalNorm().dtype() == DType.F32 && m.embedding().dtype() == DType.BF16);
        }
    }
}
