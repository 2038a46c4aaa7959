package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertNotNull;
import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.testng.annotations.AfterMethod;
import org.testng.annotations.BeforeMethod;
import org.testng.annotations.Test;
import sleb.SharedData;

/**
 * OPT config.json and weights: the two shared fixtures (pre-LN, and 350m-style post-LN with project_in/out),
 * expected values from their PROVENANCE.md (tensor and parameter counts) and transformers' OPTConfig defaults.
 */
public class OptLoadTest {
    private Path tmp;

    @BeforeMethod
    public void mk() throws Exception { tmp = Files.createTempDirectory("opt-load"); }

    @AfterMethod(alwaysRun = true)
    public void rm() throws Exception { Fixtures.deleteTree(tmp); }

    static Path preLn() { return SharedData.require("models/opt-tiny/opt-tiny-preln"); }
    static Path postLn() { return SharedData.require("models/opt-tiny/opt-tiny-postln-proj"); }

    @Test
    public void preLnConfigAndWeights() throws Exception {
        try (Model m = ModelLoader.load(preLn())) {
            ModelConfig c = m.config();
            assertEquals(c.architecture, "OPTForCausalLM");
            assertEquals(c.modelType, "opt");
            assertTrue(c.isOpt());
            assertEquals(c.dim, 64);
            assertEquals(c.hiddenDim, 256);
            assertEquals(c.nLayers, 6);
            assertEquals(c.nHeads, 4);
            assertEquals(c.nKvHeads, 4);
            assertEquals(c.headDim, 16);
            assertEquals(c.vocabSize, 512);
            assertEquals(c.maxSeqLen, 2048);
            assertEquals(c.normEps, 1e-5f);
            assertTrue(c.tiedEmbeddings, "OPT ties lm_head by default (tie_word_embeddings absent)");
            assertEquals(c.bosId, 2);
            assertEquals(c.eosId, 2);
            assertTrue(c.opt.layerNormBefore);
            assertTrue(c.opt.finalLayerNorm);
            assertFalse(c.opt.projectInOut);
            assertEquals(c.opt.wordEmbedProjDim, 64);
            assertEquals(c.embedDim(), 64);
            assertEquals(m.tensors().size(), 100);
            assertEquals(c.totalParams(), 464000L);
            assertEquals(m.embedding().shape(), new long[] {512, 64});
            assertEquals(m.tensor(OptLayout.EMBED_POSITIONS).shape(), new long[] {2050, 64});
            assertEquals(m.finalNorm().name(), OptLayout.FINAL_NORM_WEIGHT);
            assertEquals(m.lmHead().name(), OptLayout.EMBED_TOKENS);
            assertEquals(m.tensor(OptLayout.layer(5, "fc2.bias")).shape(), new long[] {64});
        }
    }

    @Test
    public void postLnProjectedConfigAndWeights() throws Exception {
        try (Model m = ModelLoader.load(postLn())) {
            ModelConfig c = m.config();
            assertEquals(c.nLayers, 5);
            assertFalse(c.opt.layerNormBefore);
            assertFalse(c.opt.finalLayerNorm, "post-LN has no decoder.final_layer_norm");
            assertTrue(c.opt.projectInOut);
            assertEquals(c.opt.wordEmbedProjDim, 32);
            assertEquals(c.embedDim(), 32);
            assertEquals(m.tensors().size(), 84);
            assertEquals(c.totalParams(), 401600L);
            assertEquals(m.tensor(OptLayout.PROJECT_IN).shape(), new long[] {64, 32});
            assertEquals(m.tensor(OptLayout.PROJECT_OUT).shape(), new long[] {32, 64});
            assertFalse(m.has(OptLayout.FINAL_NORM_WEIGHT));
        }
    }

    /** facebook/opt-* on the hub store "decoder.*" without the "model." prefix: same tensors under the model's names. */
    @Test
    public void hubNamesWithoutModelPrefixLoad() throws Exception {
        Path dir = Fixtures.copyDir(postLn(), tmp.resolve("hub"));
        Fixtures.editHeader(dir.resolve("model.safetensors"), h -> {
            JsonObject renamed = new JsonObject();
            for (Map.Entry<String, com.google.gson.JsonElement> e : h.entrySet())
                renamed.add(e.getKey().startsWith("model.") ? e.getKey().substring("model.".length()) : e.getKey(), e.getValue());
            for (String k : new ArrayList<>(h.keySet())) h.remove(k);
            for (Map.Entry<String, com.google.gson.JsonElement> e : renamed.entrySet()) h.add(e.getKey(), e.getValue());
        });
        try (Model hub = ModelLoader.load(dir); Model ref = ModelLoader.load(postLn())) {
            assertEquals(hub.tensors().keySet(), ref.tensors().keySet());
            for (String name : ref.tensors().keySet())
                assertEquals(hub.tensor(name).toFloatArray(), ref.tensor(name).toFloatArray(), name);
        }
    }

    @Test
    public void removedFinalLayerNormIsNotRequired() throws Exception {
        Path dir = Fixtures.copyDir(preLn(), tmp.resolve("nofinal"));
        Fixtures.editConfig(dir, c -> c.addProperty("_remove_final_layer_norm", true));
        try (Model m = ModelLoader.load(dir)) {
            assertFalse(m.config().opt.finalLayerNorm);
            assertFalse(m.has(OptLayout.FINAL_NORM_WEIGHT));
        }
    }

    @Test
    public void untiedLmHeadIsRequired() throws Exception {
        Path dir = Fixtures.copyDir(preLn(), tmp.resolve("untied"));
        Fixtures.editConfig(dir, c -> c.addProperty("tie_word_embeddings", false));
        ModelFormatException e = expectThrows(ModelFormatException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());
    }

    @Test
    public void unsupportedMathIsRefusedNamingTheKey() throws Exception {
        List<String[]> cases = List.of(
                new String[] {"activation_function", "\"gelu\""},
                new String[] {"enable_bias", "false"},
                new String[] {"layer_norm_elementwise_affine", "false"},
                new String[] {"hidden_size", "66"});
        for (String[] kv : cases) {
            Path dir = Fixtures.copyDir(preLn(), tmp.resolve(kv[0]));
            Fixtures.editConfig(dir, c -> c.add(kv[0], com.google.gson.JsonParser.parseString(kv[1])));
            ModelFormatException e = expectThrows(ModelFormatException.class, () -> ModelLoader.load(dir));
            assertTrue(e.getMessage().contains(kv[0]) && !e.getMessage().contains("\n"), kv[0] + ": " + e.getMessage());
        }
    }

    @Test
    public void requiredShapesFollowTheConfig() throws Exception {
        try (Model m = ModelLoader.load(postLn())) {
            Map<String, long[]> shapes = OptLayout.requiredShapes(m.config());
            assertEquals(shapes.size(), 84);
            assertEquals(shapes.get(OptLayout.layer(0, "fc1.weight")), new long[] {256, 64});
            assertEquals(shapes.get(OptLayout.EMBED_POSITIONS), new long[] {2050, 64});
            assertNotNull(shapes.get(OptLayout.PROJECT_OUT));
        }
    }
}
