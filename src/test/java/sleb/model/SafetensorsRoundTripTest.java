package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.testng.annotations.AfterMethod;
import org.testng.annotations.BeforeMethod;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;

/** SafetensorsWriter output read back by HfModelLoader: single file and two shards, F32/F16/BF16 and mixed. */
public class SafetensorsRoundTripTest {
    private Path tmp;

    @BeforeMethod
    public void setUp() throws Exception { tmp = Files.createTempDirectory("sleb-st"); }

    @AfterMethod(alwaysRun = true)
    public void tearDown() throws Exception { Fixtures.deleteTree(tmp); }

    @DataProvider
    public Object[][] dtypes() {
        return new Object[][] {{DType.F32, DType.F32}, {DType.F16, DType.F16}, {DType.BF16, DType.BF16}, {DType.BF16, DType.F32}};
    }

    private static JsonObject smallConfig(String arch, String type, boolean tied) {
        JsonObject c = Fixtures.config(arch, type, 16, 24, 2, 4, 2, 32, tied);
        c.addProperty("rope_theta", 500000.0);
        return c;
    }

    private static void assertSame(Model m, Map<String, Tensor> want) {
        assertEquals(m.tensors().keySet(), want.keySet());
        for (Tensor w : want.values()) {
            Tensor g = m.tensor(w.name());
            assertEquals(g.dtype(), w.dtype(), w.name());
            assertEquals(g.shape(), w.shape(), w.name());
            for (long i = 0; i < w.numel(); i++)
                assertEquals(Float.floatToRawIntBits(g.get(i)), Float.floatToRawIntBits(w.get(i)), w.name() + "[" + i + "]");
        }
    }

    @Test(dataProvider = "dtypes")
    public void singleFile(DType type, DType normType) throws Exception {
        JsonObject c = smallConfig("LlamaForCausalLM", "llama", false);
        Fixtures.writeJson(tmp.resolve("config.json"), c);
        ModelConfig cfg = HfConfig.parse(c, tmp);
        Map<String, Tensor> t = Fixtures.randomTensors(cfg, type, normType, 42);
        SafetensorsWriter.write(tmp.resolve("model.safetensors"), t);
        try (Model m = HfModelLoader.load(tmp)) {
            assertEquals(m.config().ropeTheta, 500000.0);
            assertEquals(m.config().headDim, 4);
            assertEquals(m.config().tiedEmbeddings, false);
            assertSame(m, t);
        }
        // Header is 8-byte aligned and carries the metadata; no temp files are left behind.
        byte[] all = Files.readAllBytes(tmp.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(n % 8, 0);
        try (SafetensorsFile f = SafetensorsFile.open(tmp.resolve("model.safetensors"))) {
            assertEquals(f.header().metadata.get("format"), "pt");
            assertEquals(f.names().iterator().next(), t.keySet().iterator().next());
        }
        try (var s = Files.list(tmp)) { assertEquals(s.count(), 2L); }
    }

    @Test(dataProvider = "dtypes")
    public void twoShardsWithIndex(DType type, DType normType) throws Exception {
        JsonObject c = smallConfig("Qwen2ForCausalLM", "qwen2", true);
        Fixtures.writeJson(tmp.resolve("config.json"), c);
        ModelConfig cfg = HfConfig.parse(c, tmp);
        assertTrue(cfg.qkvBias);
        Map<String, Tensor> t = Fixtures.randomTensors(cfg, type, normType, 7);
        Map<String, Tensor> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        JsonObject weightMap = new JsonObject();
        int i = 0;
        for (Map.Entry<String, Tensor> e : t.entrySet()) {
            boolean first = i++ < t.size() / 2;
            (first ? a : b).put(e.getKey(), e.getValue());
            weightMap.addProperty(e.getKey(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        SafetensorsWriter.write(tmp.resolve("model-00001-of-00002.safetensors"), a);
        SafetensorsWriter.write(tmp.resolve("model-00002-of-00002.safetensors"), b);
        JsonObject index = new JsonObject();
        index.add("metadata", new JsonObject());
        index.add("weight_map", weightMap);
        Fixtures.writeJson(tmp.resolve("model.safetensors.index.json"), index);
        try (Model m = HfModelLoader.load(tmp)) {
            assertEquals(m.config().modelType, "qwen2");
            assertTrue(m.has("model.layers.1.self_attn.k_proj.bias"));
            assertSame(m, t);
        }
    }

    @Test
    public void extraTensorsAreIgnoredAndConfigDefaultsApply() throws Exception {
        JsonObject c = smallConfig("MistralForCausalLM", "mistral", false);
        c.remove("num_key_value_heads");
        c.remove("rms_norm_eps");
        c.remove("rope_theta");
        c.add("head_dim", com.google.gson.JsonNull.INSTANCE);
        com.google.gson.JsonArray eos = new com.google.gson.JsonArray();
        eos.add(128001);
        eos.add(128009);
        c.add("eos_token_id", eos);
        JsonObject rs = new JsonObject();
        rs.addProperty("rope_type", "llama3");
        rs.addProperty("factor", 8.0);
        rs.addProperty("low_freq_factor", 1.0);
        rs.addProperty("high_freq_factor", 4.0);
        rs.addProperty("original_max_position_embeddings", 8192);
        c.add("rope_scaling", rs);
        Fixtures.writeJson(tmp.resolve("config.json"), c);
        ModelConfig cfg = HfConfig.parse(c, tmp);
        assertEquals(cfg.nKvHeads, 4);
        assertEquals(cfg.headDim, 4);
        assertEquals(cfg.normEps, 1e-6f);
        assertEquals(cfg.ropeTheta, 10000.0);
        assertEquals(cfg.maxSeqLen, 4096 * 32); // MistralConfig's default max_position_embeddings
        assertEquals(cfg.eosId, 128001);
        assertEquals(cfg.bosId, 1);
        assertEquals(cfg.ropeScaling.factor, 8.0);
        assertEquals(cfg.ropeScaling.originalMaxPositions, 8192);
        Map<String, Tensor> t = Fixtures.randomTensors(cfg, DType.BF16, DType.BF16, 3);
        Map<String, Tensor> withExtra = new LinkedHashMap<>(t);
        withExtra.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.ofFloats("inv", DType.F32, new long[] {2}, new float[] {1, 0.5f}));
        SafetensorsWriter.write(tmp.resolve("model.safetensors"), withExtra);
        try (Model m = HfModelLoader.load(tmp)) {
            assertSame(m, t);
        }
    }
}
