package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.AfterMethod;
import org.testng.annotations.BeforeMethod;
import org.testng.annotations.Test;
import sleb.CliRun;

/**
 * Weights that config.json does not use are reported, as transformers reports unused checkpoint weights: blocks past
 * num_hidden_layers, and a stored lm_head.weight that differs from the embedding a tied config uses instead.
 */
public class HfWeightsWarningsTest {
    private Path dir;

    @BeforeMethod
    public void setUp() throws Exception { dir = Files.createTempDirectory("sleb-warn"); }

    @AfterMethod(alwaysRun = true)
    public void tearDown() throws Exception { Fixtures.deleteTree(dir); }

    /** Writes config.json (layers, tied as given) and the tensors, then loads, returning the warnings. */
    private List<String> load(JsonObject config, Map<String, Tensor> tensors) throws Exception {
        Fixtures.writeJson(dir.resolve("config.json"), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        List<String> warnings = new ArrayList<>();
        try (Model m = HfModelLoader.load(dir, warnings::add)) {
            assertEquals(m.config().nLayers, config.get("num_hidden_layers").getAsInt());
        }
        return warnings;
    }

    @Test
    public void moreLayersThanTheConfigNamesBothCounts() throws Exception {
        JsonObject five = Fixtures.config("LlamaForCausalLM", "llama", 16, 24, 5, 4, 2, 32, false);
        Map<String, Tensor> weights = Fixtures.randomTensors(HfConfig.parse(five, dir), DType.BF16, DType.F32, 3);
        JsonObject three = Fixtures.config("LlamaForCausalLM", "llama", 16, 24, 3, 4, 2, 32, false);
        List<String> w = load(three, weights);
        assertEquals(w.size(), 1, w.toString());
        assertTrue(w.get(0).contains("hold weights of 5 layers but config.json has num_hidden_layers 3; layers 3..4 are not used"), w.get(0));
        assertEquals(load(five, weights), List.of());
        // and through the command line, as a warning line on stderr, the command still succeeding
        CliRun r = CliRun.run("info", "--model", dir.toString());
        assertEquals(r.code, 0, r.err);
        Fixtures.writeJson(dir.resolve("config.json"), three);
        r = CliRun.run("info", "--model", dir.toString());
        assertEquals(r.code, 0, r.err);
        assertTrue(r.err.contains("sleb: warning: the safetensors in " + dir + " hold weights of 5 layers but config.json has num_hidden_layers 3"), r.err);
    }

    @Test
    public void tiedConfigWithADifferentStoredLmHeadSaysWhichIsUsed() throws Exception {
        JsonObject tied = Fixtures.config("LlamaForCausalLM", "llama", 16, 24, 2, 4, 2, 32, true);
        Map<String, Tensor> t = new LinkedHashMap<>(Fixtures.randomTensors(HfConfig.parse(tied, dir), DType.F16, DType.F32, 4));
        Tensor embed = t.get("model.embed_tokens.weight");
        // the same values stored twice (as some exporters write tied models): nothing to say
        t.put("lm_head.weight", Tensor.ofFloats("lm_head.weight", DType.F16, embed.shape(), embed.toFloatArray()));
        assertEquals(load(tied, t), List.of());
        float[] other = embed.toFloatArray();
        other[17] += 1f;
        t.put("lm_head.weight", Tensor.ofFloats("lm_head.weight", DType.F16, embed.shape(), other));
        List<String> w = load(tied, t);
        assertEquals(w.size(), 1, w.toString());
        assertTrue(w.get(0).contains("stores an lm_head.weight that differs from model.embed_tokens.weight")
                && w.get(0).contains("using model.embed_tokens.weight as the output projection"), w.get(0));
        try (Model m = HfModelLoader.load(dir, s -> { })) {
            assertTrue(m.lmHead() == m.embedding(), "the tied config uses the embedding");
        }
    }
}
