package sleb.bench;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertNull;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.util.UsageException;

public class ShapesTest {
    @DataProvider
    public Object[][] names() {
        return Shapes.NAMES.stream().map(n -> new Object[] {n}).toArray(Object[][]::new);
    }

    private static int num(JsonObject o, String k, int def) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? def : e.getAsInt();
    }

    /** Read from the jar resources (no sleb.home), with the exact dims of the repository's config.json. */
    @Test(dataProvider = "names")
    public void namedShapeHasTheDimsOfItsConfigJson(String name) throws Exception {
        assertNull(System.getProperty("sleb.home"));
        JsonObject j = JsonParser.parseString(Files.readString(Path.of("models", name, "config.json"))).getAsJsonObject();
        ModelConfig c = Shapes.config(name, null);
        assertEquals(c.dim, j.get("hidden_size").getAsInt());
        assertEquals(c.hiddenDim, j.get(j.has("ffn_dim") ? "ffn_dim" : "intermediate_size").getAsInt());
        assertEquals(c.nLayers, j.get("num_hidden_layers").getAsInt());
        assertEquals(c.nHeads, j.get("num_attention_heads").getAsInt());
        assertEquals(c.nKvHeads, num(j, "num_key_value_heads", c.nHeads));
        assertEquals(c.vocabSize, j.get("vocab_size").getAsInt());
        assertEquals(c.ropeTheta, j.has("rope_theta") ? j.get("rope_theta").getAsDouble() : 10000.0);
        boolean tiedByDefault = "opt".equals(j.get("model_type").getAsString()); // OPTConfig leaves tie_word_embeddings at PretrainedConfig's true
        assertEquals(c.tiedEmbeddings, j.has("tie_word_embeddings") ? j.get("tie_word_embeddings").getAsBoolean() : tiedByDefault);
        assertEquals(Shapes.config(name, 2).nLayers, 2);
    }

    @Test
    public void publishedDims() throws Exception {
        ModelConfig s = Shapes.config("stories110m", null);
        assertEquals(new int[] {s.dim, s.hiddenDim, s.nLayers, s.nHeads, s.nKvHeads, s.vocabSize}, new int[] {768, 2048, 12, 12, 12, 32000});
        ModelConfig l3 = Shapes.config("llama3-8b", null);
        assertEquals(new int[] {l3.dim, l3.hiddenDim, l3.nLayers, l3.nHeads, l3.nKvHeads, l3.vocabSize}, new int[] {4096, 14336, 32, 32, 8, 128256});
        assertEquals(l3.ropeTheta, 500000.0);
        ModelConfig l70 = Shapes.config("llama2-70b", null);
        assertEquals(new int[] {l70.dim, l70.hiddenDim, l70.nLayers, l70.nHeads, l70.nKvHeads}, new int[] {8192, 28672, 80, 64, 8});
        ModelConfig t = Shapes.config("tinyllama-1.1b", null);
        assertEquals(new int[] {t.dim, t.hiddenDim, t.nLayers, t.nHeads, t.nKvHeads}, new int[] {2048, 5632, 22, 32, 4});
        assertEquals(Shapes.config("mistral-7b", null).modelType, "mistral");
        assertEquals(Shapes.config("llama2-7b", null).normEps, 1e-5f);
        // facebook/opt-6.7b's parameter count (OPTForCausalLM, lm_head tied): 6,658,473,984
        ModelConfig o = Shapes.config("opt-6.7b", null);
        assertEquals(o.totalParams(), 6_658_473_984L);
        assertEquals(new int[] {o.dim, o.hiddenDim, o.nLayers, o.nHeads}, new int[] {4096, 16384, 32, 32});
        ModelConfig o66 = Shapes.config("opt-66b", null);
        assertEquals(new int[] {o66.dim, o66.hiddenDim, o66.nLayers, o66.nHeads, o66.headDim}, new int[] {9216, 36864, 64, 72, 128});
    }

    @Test
    public void optSyntheticModelRunsOnTheCpu() throws Exception {
        ModelConfig c = Shapes.config("opt-13b", null);
        ModelConfig small = new ModelConfig(c.architecture, c.modelType, 40, 80, 2, 5, 5, 8, 300, 64, c.normEps, c.ropeTheta,
                c.ropeStyle, true, false, null, c.bosId, c.eosId, null, new sleb.model.OptLayout(true, true, 40, false));
        try (Model m = Shapes.create(small, DType.BF16, 3, 2, 0); sleb.backend.cpu.CpuBackend be = new sleb.backend.cpu.CpuBackend(2);
             sleb.backend.LoadedModel lm = be.load(m)) {
            assertEquals(m.tensors().size(), sleb.model.OptLayout.requiredShapes(small).size());
            double[] nll = lm.nll(new int[][] {{1, 5, 9, 200, 7}}, new int[] {0, 1});
            assertTrue(Double.isFinite(nll[0]) && nll[0] > 0, "nll " + nll[0]);
        }
    }

    @Test
    public void configJsonPathAndSyntheticWeights() throws Exception {
        Path dir = Files.createTempDirectory("shape");
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":24,"
                + "\"num_hidden_layers\":3,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":20}");
        ModelConfig c = Shapes.config(dir.toString(), 2);
        assertEquals(c.nLayers, 2);
        assertEquals(c.kvDim(), 8);
        try (Model m = Shapes.create(c, DType.BF16, 7, 2, 0)) {
            assertEquals(m.tensor("model.layers.1.mlp.down_proj.weight").shape(), new long[] {16, 24});
            assertEquals(m.tensor("model.layers.1.mlp.down_proj.weight").dtype(), DType.BF16);
        }
    }

    @Test
    public void refusesWhatTheHeapCannotHold() {
        UsageException e = expectThrows(UsageException.class, () -> Shapes.create(Shapes.config("llama2-70b", null), DType.F32, 1, 2, 0));
        assertTrue(e.getMessage().contains("GiB of Java heap"), e.getMessage());
        expectThrows(UsageException.class, () -> Shapes.config("no-such-shape", null));
        expectThrows(UsageException.class, () -> Shapes.config("stories110m", 0));
        expectThrows(UsageException.class, () -> Shapes.parseDtype("f8"));
    }
}
