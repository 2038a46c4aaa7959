package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertNull;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;

/**
 * The published config.json files of the families SLEB-J reads, parsed into every setting that changes the
 * forward pass. Expected values are read off the files by hand. Sources: models/llama2-7b, models/llama3-8b,
 * models/tinyllama-1.1b and models/mistral-7b are the configs of meta-llama/Llama-2-7b-hf,
 * meta-llama/Meta-Llama-3-8B, TinyLlama/TinyLlama-1.1B-Chat-v1.0 and mistralai/Mistral-7B-v0.1 (models/README.md);
 * the Llama-3.2-1B text below is meta-llama/Llama-3.2-1B's config.json (transformers 4.45). Llama-3.1-8B,
 * Mistral-Nemo and Qwen2.5-0.5B are covered key by key in {@link HfConfigRulesTest}.
 */
public class RealConfigsTest {
    private static ModelConfig shape(String name) throws Exception {
        Path p = Path.of("models", name, "config.json");
        return HfConfig.parse(Files.readString(p), p);
    }

    @Test
    public void llama2_7b() throws Exception {
        ModelConfig c = shape("llama2-7b");
        // no rope_theta key: LlamaConfig's 10000; "rope_scaling": null: none
        assertEquals(c.ropeTheta, 10000.0);
        assertNull(c.ropeScaling);
        assertEquals(c.maxSeqLen, 4096);
        assertEquals(c.headDim, 128);
        assertEquals(c.nKvHeads, 32);
        assertEquals(c.normEps, 1e-5f);
        assertFalse(c.tiedEmbeddings);
        assertFalse(c.qkvBias);
        assertFalse(c.hasSlidingWindow());
    }

    @Test
    public void llama3_8b() throws Exception {
        ModelConfig c = shape("llama3-8b");
        assertEquals(c.ropeTheta, 500000.0);
        assertNull(c.ropeScaling); // LLaMA-3 (not 3.1) has no frequency scaling
        assertEquals(c.maxSeqLen, 8192);
        assertEquals(c.nKvHeads, 8);
        assertEquals(c.bosId, 128000);
        assertEquals(c.eosId, 128001);
        assertFalse(c.hasSlidingWindow());
    }

    @Test
    public void tinyllama() throws Exception {
        ModelConfig c = shape("tinyllama-1.1b");
        assertEquals(c.ropeTheta, 10000.0);
        assertEquals(c.maxSeqLen, 2048);
        assertEquals(c.headDim, 64);
        assertEquals(c.nKvHeads, 4);
        assertEquals(c.nLayers, 22);
        assertFalse(c.hasSlidingWindow());
    }

    @Test
    public void mistral7bV01() throws Exception {
        ModelConfig c = shape("mistral-7b");
        assertEquals(c.ropeTheta, 10000.0);
        assertEquals(c.maxSeqLen, 32768);
        assertTrue(c.hasSlidingWindow());
        for (int i = 0; i < c.nLayers; i++) assertEquals(c.slidingWindow(i), 4096, "layer " + i);
    }

    @Test
    public void llama32_1b() {
        String json = "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0,"
                + " \"bos_token_id\": 128000, \"eos_token_id\": 128001, \"head_dim\": 64, \"hidden_act\": \"silu\", \"hidden_size\": 2048,"
                + " \"initializer_range\": 0.02, \"intermediate_size\": 8192, \"max_position_embeddings\": 131072, \"mlp_bias\": false,"
                + " \"model_type\": \"llama\", \"num_attention_heads\": 32, \"num_hidden_layers\": 16, \"num_key_value_heads\": 8,"
                + " \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0,"
                + " \"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
                + " \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
                + " \"transformers_version\": \"4.45.0.dev0\", \"use_cache\": true, \"vocab_size\": 128256}";
        ModelConfig c = HfConfig.parse(json, Path.of("config.json"));
        assertEquals(c.ropeTheta, 500000.0);
        assertEquals(c.ropeScaling.factor, 32.0);
        assertEquals(c.ropeScaling.lowFreqFactor, 1.0);
        assertEquals(c.ropeScaling.highFreqFactor, 4.0);
        assertEquals(c.ropeScaling.originalMaxPositions, 8192);
        assertTrue(c.tiedEmbeddings);
        assertEquals(c.headDim, 64);
        assertEquals(c.maxSeqLen, 131072);
        assertFalse(c.hasSlidingWindow());
    }
}
