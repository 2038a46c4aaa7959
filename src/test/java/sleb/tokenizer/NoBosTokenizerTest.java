package sleb.tokenizer;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;
import sleb.model.DType;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SafetensorsWriter;
import sleb.model.SyntheticModel;
import sleb.util.Json;
import sleb.zeroshot.Scorer;

/**
 * A Qwen2-style model directory whose tokenizer has no BOS token: the keys of the public Qwen/Qwen2.5-0.5B
 * config.json and tokenizer_config.json ("bos_token": null, eos "&lt;|endoftext|&gt;" = bos_token_id = eos_token_id),
 * shapes shrunk; a byte-level BPE tokenizer.json with the 256 byte tokens and Qwen's three added specials.
 * No command may emit a token id outside the vocabulary: --bos is refused in one line, the defaults run.
 */
public class NoBosTokenizerTest {
    private Path dir, text;

    @BeforeClass
    public void build() throws Exception {
        dir = Files.createTempDirectory("qwen2-nobos");
        JsonObject tj = new JsonObject();
        tj.addProperty("version", "1.0");
        JsonArray added = new JsonArray();
        String[] specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
        for (int i = 0; i < specials.length; i++) {
            JsonObject a = new JsonObject();
            a.addProperty("id", 256 + i);
            a.addProperty("content", specials[i]);
            a.addProperty("single_word", false);
            a.addProperty("lstrip", false);
            a.addProperty("rstrip", false);
            a.addProperty("normalized", false);
            a.addProperty("special", true);
            added.add(a);
        }
        tj.add("added_tokens", added);
        tj.add("normalizer", null);
        JsonObject bl = new JsonObject();
        bl.addProperty("type", "ByteLevel");
        bl.addProperty("add_prefix_space", false);
        bl.addProperty("trim_offsets", false);
        bl.addProperty("use_regex", true);
        tj.add("pre_tokenizer", bl);
        tj.add("post_processor", bl);
        tj.add("decoder", bl);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        JsonObject vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab.addProperty(HfFixtures.byteLevel(new byte[] {(byte) b}), b);
        model.add("vocab", vocab);
        model.add("merges", new JsonArray());
        tj.add("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), Json.GSON.toJson(tj));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_prefix_space\": false, \"bos_token\": null, \"clean_up_tokenization_spaces\": false,"
                + " \"eos_token\": \"<|endoftext|>\", \"errors\": \"replace\", \"model_max_length\": 131072, \"pad_token\": \"<|endoftext|>\","
                + " \"split_special_tokens\": false, \"tokenizer_class\": \"Qwen2Tokenizer\", \"unk_token\": null}");
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 256,"
                + " \"eos_token_id\": 256, \"hidden_act\": \"silu\", \"hidden_size\": 32, \"initializer_range\": 0.02, \"intermediate_size\": 64,"
                + " \"max_position_embeddings\": 32768, \"max_window_layers\": 2, \"model_type\": \"qwen2\", \"num_attention_heads\": 4,"
                + " \"num_hidden_layers\": 2, \"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,"
                + " \"sliding_window\": 32768, \"tie_word_embeddings\": true, \"torch_dtype\": \"float32\", \"use_cache\": true,"
                + " \"use_sliding_window\": false, \"vocab_size\": 264}");
        ModelConfig c = new ModelConfig("Qwen2ForCausalLM", "qwen2", 32, 64, 2, 4, 2, 8, 264, 32768, 1e-6f, 1e6, RopeStyle.HALF,
                true, true, null, 256, 256);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), SyntheticModel.create(c, DType.F32, 9).tensors());
        text = dir.resolve("text.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) sb.append("The quick brown fox jumps over the lazy dog ").append(i).append(".\n");
        Files.writeString(text, sb.toString());
    }

    @Test
    public void tokenizerReportsNoBos() {
        Tokenizer t = Tokenizers.load(dir, 264);
        assertEquals(t.bosId(), -1);
        assertTrue(!t.hasBos() && !t.addsBosByDefault());
        assertEquals(t.eosId(), 256);
        // the harness's prefix token for an empty context is EOS when there is no BOS
        assertEquals(Scorer.encode(t, "", " yes", false, 0).tokens()[0], 256);
    }

    @Test
    public void bosFlagIsRefusedEverywhere() throws Exception {
        String m = dir.toString();
        Path out = dir.resolve("out");
        CliRun.run("eval", "--device", "cpu", "--model", m, "--data", "mine=" + text, "--seqlen", "16", "--bos")
                .assertErrorLine("eval --bos", "has no BOS token");
        CliRun.run("prune", "--device", "cpu", "--model", m, "--calib", text.toString(), "--nsamples", "2", "--seqlen", "16", "--num-remove-blocks", "1",
                "--early-barrier", "0", "--latter-barrier", "0", "--bos", "--out", out.resolve("run.json").toString())
                .assertErrorLine("prune --bos", "has no BOS token");
        CliRun.run("zeroshot", "--device", "cpu", "--model", m, "--tasks", "piqa", "--task-file",
                "piqa=" + SharedData.require("data/zeroshot/piqa/valid.jsonl"), "--limit", "2", "--bos")
                .assertErrorLine("zeroshot --bos", "has no BOS token");
        Path ids = out.resolve("ids.bin");
        CliRun.run("tokenize", "--model", m, "--data", "mine=" + text, "--bos", "--out", ids.toString())
                .assertErrorLine("tokenize --bos", "has no BOS token");
        assertTrue(!Files.exists(ids), "no ids file after a refusal");
        CliRun.run("generate", "--device", "cpu", "--model", m, "--max-tokens", "2")
                .assertErrorLine("generate without --prompt", "--prompt");
    }

    @Test
    public void defaultsRunWithIdsInsideTheVocabulary() throws Exception {
        String m = dir.toString();
        Path ids = Files.createTempDirectory("nobos-ids").resolve("ids.bin");
        CliRun tk = CliRun.run("tokenize", "--model", m, "--data", "mine=" + text, "--out", ids.toString());
        assertEquals(tk.code, 0, tk.err);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(ids)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(b.getInt(0), 'T', "no BOS: the stream starts with the text's first byte token");
        while (b.hasRemaining()) {
            int id = b.getInt();
            assertTrue(id >= 0 && id < 264, "id " + id);
        }
        CliRun ev = CliRun.run("eval", "--device", "cpu", "--model", m, "--data", "mine=" + text, "--seqlen", "16", "--max-windows", "2");
        assertEquals(ev.code, 0, ev.err);
        assertTrue(ev.err.contains("BOS off"), ev.err);
        CliRun gen = CliRun.run("generate", "--device", "cpu", "--model", m, "--prompt", "The", "--max-tokens", "2");
        assertEquals(gen.code, 0, gen.err);
    }
}
