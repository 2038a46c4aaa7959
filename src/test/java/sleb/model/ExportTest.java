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
import java.util.SplittableRandom;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.util.Json;

/** Exported models give the source's logits with the removed blocks skipped, and `sleb eval` the same perplexity. */
public class ExportTest {
    private static int[][] tokens(int vocab) {
        SplittableRandom r = new SplittableRandom(7);
        int[][] t = new int[2][40];
        for (int[] row : t) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(vocab);
        return t;
    }

    private static float[][] logits(Model m, int[] blocks, int[][] toks) {
        try (CpuBackend be = new CpuBackend(); LoadedModel lm = be.load(m)) {
            return ModelLogits.of(lm, toks, blocks);
        }
    }

    private static void assertClose(float[][] a, float[][] b, double tol) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < a[i].length; j++)
                if (tol == 0) assertEquals(a[i][j], b[i][j], 0f, "row " + i + " col " + j);
                else assertTrue(Math.abs(a[i][j] - b[i][j]) <= tol, "row " + i + " col " + j + ": " + a[i][j] + " vs " + b[i][j]);
    }

    @Test
    public void llama2cToLlama2c() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path out = Files.createTempDirectory("export").resolve("pruned");
        try (Model src = ModelLoader.load(bin)) {
            Exporter.export(src, BlockSelection.removing(src.config().nLayers, List.of(1, 3)), out, "auto", bin.resolveSibling("tok512.bin"));
            assertTrue(Files.isRegularFile(out.resolve("tok512.bin")));
            try (Model dst = ModelLoader.load(out.resolve("stories260K.bin"))) {
                assertEquals(dst.config().nLayers, 3);
                int[][] t = tokens(512);
                assertClose(logits(dst, new int[] {0, 1, 2}, t), logits(src, new int[] {0, 2, 4}, t), 0);
            }
        }
        // same perplexity through the CLI
        Path text = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        String[] common = {"--data", "wikitext2=" + text, "--seqlen", "256", "--max-windows", "4", "--no-bos"};
        sleb.CliRun a = sleb.CliRun.run(sleb.CliRun.concat(new String[] {"eval", "--model", bin.toString(), "--remove", "1,3"}, common));
        sleb.CliRun b = sleb.CliRun.run(sleb.CliRun.concat(new String[] {"eval", "--model", out.resolve("stories260K.bin").toString()}, common));
        assertEquals(a.code, 0, a.err);
        assertEquals(b.code, 0, b.err);
        String pa = a.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"), pb = b.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1");
        assertEquals(pb, pa, a.out + " / " + b.out);
    }

    /**
     * An HF directory exported from a llama2.c source is usable at once: eval finds the tokenizer copied into it
     * without --tokenizer, and measures the source's perplexity with the same blocks removed (relative 1e-4:
     * the permuted q/k rows give the same products in another summation order, and ppl prints 4 decimals).
     */
    @Test
    public void hfExportFromLlama2cFindsItsOwnTokenizer() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path text = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Path out = Files.createTempDirectory("export").resolve("hf");
        sleb.CliRun e = sleb.CliRun.run("export", "--model", bin.toString(), "--remove", "1,3", "--out", out.toString(), "--format", "hf");
        assertEquals(e.code, 0, e.err);
        String[] common = {"--data", "wikitext2=" + text, "--seqlen", "256", "--max-windows", "4", "--no-bos", "--device", "cpu"};
        sleb.CliRun a = sleb.CliRun.run(sleb.CliRun.concat(new String[] {"eval", "--model", bin.toString(), "--remove", "1,3"}, common));
        sleb.CliRun b = sleb.CliRun.run(sleb.CliRun.concat(new String[] {"eval", "--model", out.toString()}, common));
        assertEquals(a.code, 0, a.err);
        assertEquals(b.code, 0, b.err);
        double pa = Double.parseDouble(a.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1")), pb = Double.parseDouble(b.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"));
        assertTrue(Math.abs(pa - pb) <= 1e-4 * pa, pa + " vs " + pb);
        sleb.CliRun g = sleb.CliRun.run("generate", "--model", out.toString(), "--prompt", "Once", "--max-tokens", "4", "--device", "cpu");
        assertEquals(g.code, 0, g.err);
        // a tokenizer given under a name the lookup would not find is copied under one it does
        Path dir = Files.createTempDirectory("export-renamed");
        Path renamed = Files.copy(bin.resolveSibling("tok512.bin"), dir.resolve("my-vocab.bin"));
        Path src = Files.createSymbolicLink(dir.resolve("stories260K.bin"), bin);
        Path out2 = dir.resolve("hf");
        sleb.CliRun e2 = sleb.CliRun.run("export", "--model", src.toString(), "--tokenizer", renamed.toString(), "--remove", "1,3", "--out", out2.toString(), "--format", "hf");
        assertEquals(e2.code, 0, e2.err);
        sleb.CliRun c = sleb.CliRun.run(sleb.CliRun.concat(new String[] {"eval", "--model", out2.toString()}, common));
        assertEquals(c.code, 0, c.err);
        assertEquals(c.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"), b.out.replaceAll("(?s).*ppl ([0-9.]+).*", "$1"));
    }

    /** llama2.c to Hugging Face: q/k rows permuted to rotate-half; with nothing removed it is the shared HF conversion. */
    @Test
    public void llama2cToHf() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path dir = Files.createTempDirectory("export");
        try (Model src = ModelLoader.load(bin)) {
            Exporter.export(src, BlockSelection.removing(src.config().nLayers, List.of(2)), dir.resolve("hf"), "hf", bin.resolveSibling("tok512.bin"));
            try (Model dst = ModelLoader.load(dir.resolve("hf"))) {
                assertEquals(dst.config().nLayers, 4);
                assertEquals(dst.config().ropeStyle, RopeStyle.HALF);
                int[][] t = tokens(512);
                assertClose(logits(dst, new int[] {0, 1, 2, 3}, t), logits(src, new int[] {0, 1, 3, 4}, t), 1e-4);
            }
            Path ref = SharedData.require("models/stories260K-hf");
            Exporter.export(src, BlockSelection.dense(src.config().nLayers), dir.resolve("full"), "hf", null);
            try (Model a = ModelLoader.load(dir.resolve("full")); Model b = ModelLoader.load(ref)) {
                for (String name : b.tensors().keySet())
                    assertEquals(a.tensor(name).toFloatArray(), b.tensor(name).toFloatArray(), name);
            }
        }
    }

    /** HF source in two BF16 shards: the export keeps the shard names, count, dtype and index. */
    @Test
    public void shardedHfKeepsLayoutAndDtype() throws Exception {
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 4, 4, 2, 8, 50, 128, 1e-5f, 10000.0, RopeStyle.HALF,
                false, false, null, 1, 2);
        Model syn = SyntheticModel.create(c, DType.BF16, 11);
        Path src = Files.createTempDirectory("export-src");
        Map<String, Tensor> s1 = new LinkedHashMap<>(), s2 = new LinkedHashMap<>();
        JsonObject wm = new JsonObject();
        for (Map.Entry<String, Tensor> e : syn.tensors().entrySet()) {
            boolean first = e.getKey().startsWith("model.embed") || e.getKey().matches("model\\.layers\\.[01]\\..*");
            (first ? s1 : s2).put(e.getKey(), e.getValue());
            wm.addProperty(e.getKey(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        SafetensorsWriter.write(src.resolve("model-00001-of-00002.safetensors"), s1);
        SafetensorsWriter.write(src.resolve("model-00002-of-00002.safetensors"), s2);
        JsonObject idx = new JsonObject();
        idx.add("weight_map", wm);
        Files.writeString(src.resolve("model.safetensors.index.json"), Json.GSON.toJson(idx));
        JsonObject cfg = Exporter.llamaConfig(c);
        cfg.addProperty("torch_dtype", "bfloat16");
        Files.writeString(src.resolve("config.json"), Json.GSON.toJson(cfg));
        Files.writeString(src.resolve("tokenizer_config.json"), "{}");
        Path out = Files.createTempDirectory("export").resolve("pruned");
        try (Model m = ModelLoader.load(src)) {
            Exporter.export(m, BlockSelection.removing(m.config().nLayers, List.of(1)), out, "auto", null);
            assertTrue(Files.isRegularFile(out.resolve("model-00001-of-00002.safetensors")));
            assertTrue(Files.isRegularFile(out.resolve("model-00002-of-00002.safetensors")));
            assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));
            JsonObject o = JsonParser.parseString(Files.readString(out.resolve("model.safetensors.index.json"))).getAsJsonObject().getAsJsonObject("weight_map");
            assertEquals(o.get("model.layers.0.mlp.up_proj.weight").getAsString(), "model-00001-of-00002.safetensors");
            assertEquals(o.get("model.layers.1.mlp.up_proj.weight").getAsString(), "model-00002-of-00002.safetensors"); // old block 2
            assertTrue(!o.has("model.layers.3.mlp.up_proj.weight"));
            JsonObject newCfg = JsonParser.parseString(Files.readString(out.resolve("config.json"))).getAsJsonObject();
            assertEquals(newCfg.get("num_hidden_layers").getAsInt(), 3);
            assertEquals(newCfg.get("torch_dtype").getAsString(), "bfloat16");
            try (Model dst = ModelLoader.load(out)) {
                for (Tensor t : dst.tensors().values()) assertEquals(t.dtype(), DType.BF16, t.name());
                int[][] t = tokens(50);
                assertClose(logits(dst, new int[] {0, 1, 2}, t), logits(m, new int[] {0, 2, 3}, t), 0);
            }
            try {
                Exporter.export(m, BlockSelection.removing(m.config().nLayers, List.of(1)), out, "auto", null);
                throw new AssertionError("a non-empty target must be refused");
            } catch (sleb.util.UsageException expected) {
                assertTrue(expected.getMessage().contains("not empty"));
            }
        }
    }
    /**
     * The exported config.json is the source's JSON tree: nulls (Mistral-Nemo's "sliding_window": null, which
     * transformers would otherwise replace by its 4096-token default), unknown keys, number spellings and key
     * order stay; only num_hidden_layers and the per-layer layer_types change. Keys as in the public
     * mistralai/Mistral-Nemo-Base-2407 config.json (shapes shrunk), plus layer_types as transformers 4.5x writes it
     * and two keys no transformers version knows.
     */
    @Test
    public void hfConfigIsKeptExceptTheLayerCount() throws Exception {
        String source = "{\n"
                + "  \"architectures\": [\"MistralForCausalLM\"],\n"
                + "  \"attention_dropout\": 0.0,\n"
                + "  \"bos_token_id\": 1,\n"
                + "  \"eos_token_id\": 2,\n"
                + "  \"head_dim\": 8,\n"
                + "  \"hidden_act\": \"silu\",\n"
                + "  \"hidden_size\": 32,\n"
                + "  \"initializer_range\": 0.02,\n"
                + "  \"intermediate_size\": 64,\n"
                + "  \"layer_types\": [\"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\"],\n"
                + "  \"max_position_embeddings\": 1024000,\n"
                + "  \"model_type\": \"mistral\",\n"
                + "  \"num_attention_heads\": 4,\n"
                + "  \"num_hidden_layers\": 4,\n"
                + "  \"num_key_value_heads\": 2,\n"
                + "  \"rms_norm_eps\": 1e-05,\n"
                + "  \"rope_theta\": 1000000.0,\n"
                + "  \"sliding_window\": null,\n"
                + "  \"tie_word_embeddings\": false,\n"
                + "  \"torch_dtype\": \"float32\",\n"
                + "  \"transformers_version\": \"4.43.0.dev0\",\n"
                + "  \"use_cache\": true,\n"
                + "  \"x_unknown_null\": null,\n"
                + "  \"x_unknown_nested\": {\"a\": [1, null, {\"b\": null}], \"c\": \"d\"},\n"
                + "  \"vocab_size\": 50\n"
                + "}\n";
        String expected = source.replace("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 3")
                .replace("[\"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\"]",
                        "[\"full_attention\", \"full_attention\", \"full_attention\"]");
        ModelConfig c = new ModelConfig("MistralForCausalLM", "mistral", 32, 64, 4, 4, 2, 8, 50, 1024000, 1e-5f, 1e6, RopeStyle.HALF,
                false, false, null, 1, 2);
        Path src = Files.createTempDirectory("export-cfg-src");
        SafetensorsWriter.write(src.resolve("model.safetensors"), SyntheticModel.create(c, DType.F32, 5).tensors());
        Files.writeString(src.resolve("config.json"), source);
        Path out = Files.createTempDirectory("export-cfg").resolve("pruned");
        try (Model m = ModelLoader.load(src)) {
            Exporter.export(m, BlockSelection.removing(m.config().nLayers, List.of(2)), out, "hf", null);
        }
        String written = Files.readString(out.resolve("config.json"));
        com.google.gson.JsonElement got = JsonParser.parseString(written), want = JsonParser.parseString(expected);
        assertEquals(got, want, written);
        assertEquals(new java.util.ArrayList<>(got.getAsJsonObject().keySet()), new java.util.ArrayList<>(want.getAsJsonObject().keySet()), "key order");
        assertTrue(written.contains("\"rms_norm_eps\": 1e-05") && written.contains("\"rope_theta\": 1000000.0"), "numbers as the source spelled them: " + written);
    }

    /**
     * A Qwen2 config without layer_types slides on the layers from max_window_layers on (transformers'
     * Qwen2Config). Removing a block below that boundary shifts the kept sliding layers down, so the export must
     * move max_window_layers with them: each kept block keeps its own window in the reloaded export.
     */
    @Test
    public void qwen2ExportKeepsEachKeptLayersWindow() throws Exception {
        String source = "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"hidden_size\": 32,"
                + " \"intermediate_size\": 64, \"num_hidden_layers\": 5, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"vocab_size\": 50, \"max_position_embeddings\": 256, \"rms_norm_eps\": 1e-06, \"rope_theta\": 10000.0,"
                + " \"use_sliding_window\": true, \"sliding_window\": 16, \"max_window_layers\": 3, \"tie_word_embeddings\": false}";
        ModelConfig c = new ModelConfig("Qwen2ForCausalLM", "qwen2", 32, 64, 5, 4, 2, 8, 50, 256, 1e-6f, 1e4, RopeStyle.HALF,
                false, true, null, 1, 2);
        Path src = Files.createTempDirectory("export-qwen2-src");
        SafetensorsWriter.write(src.resolve("model.safetensors"), SyntheticModel.create(c, DType.F32, 5).tensors());
        Files.writeString(src.resolve("config.json"), source);
        // layers 3 and 4 slide (16 positions); removing 0 and 4 keeps 1, 2, 3: windows none, none, 16
        Path out = Files.createTempDirectory("export-qwen2").resolve("pruned");
        try (Model m = ModelLoader.load(src)) {
            assertEquals(new int[] {m.config().slidingWindow(0), m.config().slidingWindow(3), m.config().slidingWindow(4)}, new int[] {0, 16, 16});
            Exporter.export(m, BlockSelection.removing(m.config().nLayers, List.of(0, 4)), out, "hf", null);
        }
        try (Model e = ModelLoader.load(out)) {
            assertEquals(e.config().nLayers, 3);
            assertEquals(new int[] {e.config().slidingWindow(0), e.config().slidingWindow(1), e.config().slidingWindow(2)}, new int[] {0, 0, 16});
        }
        assertEquals(JsonParser.parseString(Files.readString(out.resolve("config.json"))).getAsJsonObject().get("max_window_layers").getAsInt(), 2);
    }
}
