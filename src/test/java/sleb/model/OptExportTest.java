package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.backend.LoadedModel;
import sleb.backend.ModelLogits;
import sleb.backend.cpu.CpuBackend;
import sleb.util.Json;

/**
 * A sharded OPT checkpoint stored with the hub's names (decoder.*, no "model." prefix, as facebook/opt-* store
 * them): the export finds each tensor's shard through its stored name, renumbers the kept blocks, and runs
 * exactly as the source without the removed block.
 */
public class OptExportTest {
    @Test
    public void shardedHubNamedOptExportsAndRunsLikeTheSourceWithoutTheBlock() throws Exception {
        ModelConfig c = new ModelConfig("OPTForCausalLM", "opt", 32, 64, 4, 4, 4, 8, 50, 64, 1e-5f, 10000.0, RopeStyle.HALF,
                true, false, null, 2, 2, null, new OptLayout(true, true, 32, false));
        Model syn = SyntheticModel.create(c, DType.F32, 5);
        Path src = Files.createTempDirectory("opt-export-src");
        Map<String, Tensor> s1 = new LinkedHashMap<>(), s2 = new LinkedHashMap<>();
        JsonObject wm = new JsonObject();
        for (Map.Entry<String, Tensor> e : syn.tensors().entrySet()) {
            String hub = e.getKey().substring("model.".length());
            boolean first = hub.startsWith("decoder.embed") || hub.matches("decoder\\.layers\\.[01]\\..*");
            (first ? s1 : s2).put(hub, e.getValue());
            wm.addProperty(hub, first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        SafetensorsWriter.write(src.resolve("model-00001-of-00002.safetensors"), s1);
        SafetensorsWriter.write(src.resolve("model-00002-of-00002.safetensors"), s2);
        JsonObject idx = new JsonObject();
        idx.add("weight_map", wm);
        Files.writeString(src.resolve("model.safetensors.index.json"), Json.GSON.toJson(idx));
        Files.writeString(src.resolve("config.json"), "{\"architectures\": [\"OPTForCausalLM\"], \"model_type\": \"opt\", \"hidden_size\": 32,"
                + " \"ffn_dim\": 64, \"num_hidden_layers\": 4, \"num_attention_heads\": 4, \"vocab_size\": 50, \"max_position_embeddings\": 64,"
                + " \"do_layer_norm_before\": true, \"word_embed_proj_dim\": 32, \"prefix\": \"</s>\"}");
        Path outParent = Files.createTempDirectory("opt-export"), out = outParent.resolve("pruned");
        int[][] tokens = {{2, 7, 9, 11, 3, 40, 41, 5}};
        try (Model m = ModelLoader.load(src)) {
            Exporter.export(m, BlockSelection.removing(4, List.of(1)), out, "auto", null);
            JsonObject o = JsonParser.parseString(Files.readString(out.resolve("model.safetensors.index.json"))).getAsJsonObject().getAsJsonObject("weight_map");
            assertEquals(o.get("model.decoder.layers.0.fc1.bias").getAsString(), "model-00001-of-00002.safetensors");
            assertEquals(o.get("model.decoder.layers.1.fc1.bias").getAsString(), "model-00002-of-00002.safetensors", "old block 2");
            assertEquals(o.get("model.decoder.embed_positions.weight").getAsString(), "model-00001-of-00002.safetensors");
            assertTrue(!o.has("model.decoder.layers.3.fc1.bias"));
            JsonObject cfg = JsonParser.parseString(Files.readString(out.resolve("config.json"))).getAsJsonObject();
            assertEquals(cfg.get("num_hidden_layers").getAsInt(), 3);
            assertEquals(cfg.get("prefix").getAsString(), "</s>");
            try (Model dst = ModelLoader.load(out); CpuBackend be = new CpuBackend(2); LoadedModel a = be.load(dst); LoadedModel b = be.load(m)) {
                // the same weights in the same order: identical logits
                assertEquals(ModelLogits.of(a, tokens, new int[] {0, 1, 2}), ModelLogits.of(b, tokens, new int[] {0, 2, 3}));
            }
        } finally {
            Fixtures.deleteTree(src);
            Fixtures.deleteTree(outParent);
        }
    }
}
