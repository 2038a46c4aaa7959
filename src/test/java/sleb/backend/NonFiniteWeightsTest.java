package sleb.backend;

import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;
import sleb.backend.cpu.CpuBackend;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.ModelFormatException;
import sleb.model.RopeStyle;
import sleb.model.SafetensorsWriter;
import sleb.model.SyntheticModel;
import sleb.model.Tensor;

/**
 * A NaN or infinity anywhere in the weights stops the load with one line naming the tensor and the element,
 * instead of a NaN perplexity with exit 0: on the CPU backend for every stored dtype and kind of tensor, and
 * through `sleb eval` (exit 2). The CUDA backend's upload is checked in CudaEmulatedNonFiniteTest.
 */
public class NonFiniteWeightsTest {
    static ModelConfig config() {
        return new ModelConfig("LlamaForCausalLM", "llama", 16, 24, 2, 4, 2, 4, 512, 64, 1e-5f, 10000.0, RopeStyle.HALF,
                false, false, null, 1, 2);
    }

    /** The same shape for the CUDA backend, whose attention kernels want head_dim of at least 8. */
    public static ModelConfig configForCuda() {
        return new ModelConfig("LlamaForCausalLM", "llama", 32, 24, 2, 4, 2, 8, 512, 64, 1e-5f, 10000.0, RopeStyle.HALF,
                false, false, null, 1, 2);
    }

    /** The synthetic model with element (row, col) of one tensor replaced by {@code bad}, stored in the model's dtype. */
    public static Model poisoned(ModelConfig c, DType dtype, String name, int row, int col, float bad) {
        Model m = SyntheticModel.create(c, dtype, 5);
        Map<String, Tensor> t = new LinkedHashMap<>(m.tensors());
        Tensor old = t.get(name);
        float[] v = old.toFloatArray();
        v[(int) (row * old.cols() + col)] = bad;
        t.put(name, Tensor.ofFloats(name, old.dtype(), old.shape(), v));
        return new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null);
    }

    @DataProvider
    public static Object[][] cases() {
        return new Object[][] {
            {DType.F32, "model.layers.1.mlp.down_proj.weight", 3, 7, Float.NaN, "[3, 7]"},
            {DType.BF16, "model.embed_tokens.weight", 511, 0, Float.POSITIVE_INFINITY, "[511, 0]"},
            {DType.F16, "lm_head.weight", 0, 15, Float.NEGATIVE_INFINITY, "[0, 15]"},
            {DType.F16, "model.layers.0.self_attn.k_proj.weight", 7, 2, Float.NaN, "[7, 2]"},
            {DType.BF16, "model.layers.0.post_attention_layernorm.weight", 0, 9, Float.NaN, "[9]"},
            {DType.F32, "model.norm.weight", 0, 0, Float.POSITIVE_INFINITY, "[0]"},
        };
    }

    @Test(dataProvider = "cases")
    public void cpuLoadNamesTheTensor(DType dtype, String name, int row, int col, float bad, String at) {
        Model m = poisoned(config(), dtype, name, row, col, bad);
        try (CpuBackend be = new CpuBackend(1)) {
            ModelFormatException e = expectThrows(ModelFormatException.class, () -> be.load(m));
            assertTrue(e.getMessage().contains("tensor " + name + " holds " + bad + " at " + at), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /**
     * Every position of rows 1..70 long (vector body and scalar tail), in fp32 and in raw bf16/fp16 bits; the largest
     * finite values (fp32 MAX_VALUE, bf16 0x7f7f, fp16 0x7bff, negatives too) pass.
     */
    @Test
    public void everyPositionAndLengthIsChecked() {
        for (int len = 1; len <= 70; len++) {
            final int n = len;
            Tensor t = Tensor.ofFloats("w", DType.F32, new long[] {1, n}, new float[n]);
            float[] f = new float[n + 3];
            short[] bf = new short[n + 3], hf = new short[n + 3];
            for (int i = 0; i < f.length; i++) {
                f[i] = i % 2 == 0 ? Float.MAX_VALUE : -Float.MAX_VALUE;
                bf[i] = (short) (i % 2 == 0 ? 0x7f7f : 0xff7f);
                hf[i] = (short) (i % 2 == 0 ? 0x7bff : 0xfbff);
            }
            sleb.model.FiniteWeights.check(t, 0, f, 3, n);
            sleb.model.FiniteWeights.check(t, DType.BF16, 0, bf, 3, n);
            sleb.model.FiniteWeights.check(t, DType.F16, 0, hf, 3, n);
            for (int bad = 0; bad < n; bad++) {
                final int at = bad;
                float keep = f[3 + at];
                f[3 + at] = at % 3 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
                ModelFormatException e = expectThrows(ModelFormatException.class, () -> sleb.model.FiniteWeights.check(t, 0, f, 3, f.length - 3));
                assertTrue(e.getMessage().contains("at [0, " + at + "]"), e.getMessage());
                f[3 + at] = keep;
                short kb = bf[3 + at], kh = hf[3 + at];
                bf[3 + at] = (short) (at % 3 == 0 ? 0x7fc0 : 0xff80); // NaN, -inf
                hf[3 + at] = (short) (at % 3 == 0 ? 0x7e00 : 0x7c00); // NaN, +inf
                expectThrows(ModelFormatException.class, () -> sleb.model.FiniteWeights.check(t, DType.BF16, 0, bf, 3, n));
                expectThrows(ModelFormatException.class, () -> sleb.model.FiniteWeights.check(t, DType.F16, 0, hf, 3, n));
                bf[3 + at] = kb;
                hf[3 + at] = kh;
            }
        }
    }

    @Test
    public void evalStopsWithExit2() throws Exception {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path dir = Files.createTempDirectory("sleb-nan");
        try {
            ModelConfig c = config();
            Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 16,"
                    + " \"intermediate_size\": 24, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                    + " \"vocab_size\": 512, \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false}");
            SafetensorsWriter.write(dir.resolve("model.safetensors"), poisoned(c, DType.BF16, "model.layers.1.self_attn.o_proj.weight", 2, 3, Float.NaN).tensors());
            Path text = dir.resolve("text.txt");
            Files.writeString(text, "Once upon a time there was a little girl who liked to play in the park with her dog.\n".repeat(20));
            CliRun r = CliRun.run("eval", "--model", dir.toString(), "--tokenizer", tok.toString(), "--data", "t=" + text, "--seqlen", "32",
                    "--device", "cpu");
            r.assertErrorLine("NaN weight", "tensor model.layers.1.self_attn.o_proj.weight holds NaN at [2, 3]");
            assertTrue(!r.out.contains("ppl"), r.out);
        } finally {
            try (var s = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.delete(p);
            }
        }
    }
}
