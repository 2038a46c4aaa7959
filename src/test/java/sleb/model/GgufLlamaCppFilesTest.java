package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.testng.annotations.Test;
import sleb.LlamaCppTools;
import sleb.SharedData;

/**
 * GGUF files written by llama.cpp itself: llama-quantize's Q8_0 holds byte for byte what SLEB-J's q8_0 export holds
 * (both follow ggml's quantize_row_q8_0_ref), and SLEB-J reads llama-quantize's BF16 file as the source's weights
 * rounded to bfloat16 (round to nearest even, as ggml's fp32-to-bf16).
 */
public class GgufLlamaCppFilesTest {
    @Test
    public void q8_0BytesEqualLlamaQuantizeAndItsBf16IsRead() throws Exception {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        LlamaCppTools.bin("llama-quantize");
        // every row a multiple of 32 elements, so llama-quantize quantizes every matrix (it refuses other row lengths)
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 64, 128, 2, 4, 2, 16, 512, 256, 1e-5f, 10000.0,
                RopeStyle.ADJACENT, false, false, null, 1, 2);
        Path dir = Files.createTempDirectory("gguf-llamacpp-files");
        try (Model m = SyntheticModel.create(c, DType.F32, 21)) {
            Exporter.export(m, BlockSelection.removing(2, List.of()), dir.resolve("f32"), "gguf", tok, "f32");
            Exporter.export(m, BlockSelection.removing(2, List.of()), dir.resolve("q8"), "gguf", tok, "q8_0");
            Path f32 = dir.resolve("f32").resolve(Exporter.GGUF_FILE);
            Path theirsQ8 = dir.resolve("llama-q8_0.gguf"), theirsBf16 = dir.resolve("llama-bf16.gguf");
            LlamaCppTools.run(120, "llama-quantize", f32.toString(), theirsQ8.toString(), "Q8_0", "1");
            LlamaCppTools.run(120, "llama-quantize", f32.toString(), theirsBf16.toString(), "BF16", "1");

            int compared = 0;
            try (GgufFile ours = GgufFile.open(dir.resolve("q8").resolve(Exporter.GGUF_FILE)); GgufFile theirs = GgufFile.open(theirsQ8)) {
                for (GgufFile.TensorInfo t : theirs.tensorInfos().values()) {
                    GgufFile.TensorInfo o = ours.tensorInfos().get(t.name);
                    assertEquals(o.typeName(), t.typeName(), t.name);
                    assertEquals(bytes(ours, o), bytes(theirs, t), t.name + " (" + t.typeName() + ") bytes");
                    if (t.typeName().equals("Q8_0")) compared++;
                }
            }
            assertEquals(compared, 1 + 2 * 7 + 1, "token_embd, 7 matrices per block, output: all Q8_0");

            try (Model bf = ModelLoader.load(theirsBf16)) {
                for (java.util.Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
                    float[] src = e.getValue().toFloatArray(), got = bf.tensor(e.getKey()).toFloatArray();
                    boolean vector = e.getValue().rank() == 1;
                    assertEquals(bf.tensor(e.getKey()).dtype(), vector ? DType.F32 : DType.BF16, e.getKey());
                    for (int i = 0; i < src.length; i++) assertEquals(got[i], vector ? src[i] : bf16(src[i]), 0f, e.getKey() + "[" + i + "]");
                }
                assertTrue(GgufLoader.describeStorage(theirsBf16).contains("BF16"));
            }
        }
    }

    /** llama.cpp's own llama2.c converter output reads back as the llama2.c source: same layout, same fp32 weights, the same logits to the bit. */
    @Test
    public void readsLlamaCppsConversionOfStories260K() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path gguf = LlamaCppTools.convertLlama2c(bin, bin.resolveSibling("tok512.bin"), Files.createTempDirectory("gguf-conv"));
        try (Model src = ModelLoader.load(bin); Model back = ModelLoader.load(gguf)) {
            assertEquals(back.config().nLayers, 5);
            assertEquals(back.config().nKvHeads, 4);
            assertEquals(back.config().ropeStyle, RopeStyle.ADJACENT);
            int[][] toks = {{1, 403, 407, 261, 378, 6, 89, 300, 5, 11, 499, 2, 17}};
            int[] all = {0, 1, 2, 3, 4};
            try (sleb.backend.cpu.CpuBackend be = new sleb.backend.cpu.CpuBackend();
                 sleb.backend.LoadedModel a = be.load(src); sleb.backend.LoadedModel b = be.load(back)) {
                float[][] x = sleb.backend.ModelLogits.of(a, toks, all), y = sleb.backend.ModelLogits.of(b, toks, all);
                for (int i = 0; i < x.length; i++) assertEquals(y[i], x[i], "position " + i);
            }
            sleb.tokenizer.Tokenizer t = sleb.tokenizer.Tokenizers.load(gguf, 512), s = sleb.tokenizer.Tokenizers.load(bin.resolveSibling("tok512.bin"), 512);
            String text = "Once upon a time, there was a little girl named Lily. She loved to play outside!";
            assertEquals(t.encode(text), s.encode(text));
        }
    }

    /** fp32 to bfloat16 and back, round to nearest even (finite values): the upper 16 bits after adding 0x7fff + lsb. */
    private static float bf16(float x) {
        int b = Float.floatToRawIntBits(x);
        int r = (b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000;
        return Float.intBitsToFloat(r);
    }

    private static byte[] bytes(GgufFile g, GgufFile.TensorInfo t) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) t.byteSize());
        try (FileChannel ch = FileChannel.open(g.path(), StandardOpenOption.READ)) {
            while (b.hasRemaining()) if (ch.read(b, g.dataStart() + t.offset + b.position()) < 0) throw new AssertionError("short read");
        }
        return b.array();
    }
}
