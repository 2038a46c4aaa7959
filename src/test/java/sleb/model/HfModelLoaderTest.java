package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertNull;

import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.SharedData;

/** The stories260K weights in HF safetensors (F32, BF16) against the same weights in llama2.c format. */
public class HfModelLoaderTest {
    @Test
    public void hfF32MatchesLlama2cWithRotateHalfRows() throws Exception {
        Path hfDir = SharedData.require("models/stories260K-hf");
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        try (Model hf = ModelLoader.load(hfDir); Model l2c = ModelLoader.load(bin)) {
            ModelConfig a = hf.config(), b = l2c.config();
            assertEquals(hf.format(), Model.SourceFormat.HF);
            assertEquals(a.dim, 64);
            assertEquals(a.hiddenDim, 172);
            assertEquals(a.nLayers, 5);
            assertEquals(a.nHeads, 8);
            assertEquals(a.nKvHeads, 4);
            assertEquals(a.vocabSize, 512);
            assertEquals(a.headDim, 8);
            assertEquals(a.ropeStyle, RopeStyle.HALF);
            assertEquals(a.architecture, "LlamaForCausalLM");
            assertEquals(a.modelType, "llama");
            assertFalse(a.qkvBias);
            assertNull(a.ropeScaling);
            for (ModelConfig c : new ModelConfig[] {b}) {
                assertEquals(a.dim, c.dim);
                assertEquals(a.hiddenDim, c.hiddenDim);
                assertEquals(a.nLayers, c.nLayers);
                assertEquals(a.nHeads, c.nHeads);
                assertEquals(a.nKvHeads, c.nKvHeads);
                assertEquals(a.headDim, c.headDim);
                assertEquals(a.vocabSize, c.vocabSize);
                assertEquals(a.maxSeqLen, c.maxSeqLen);
                assertEquals(a.normEps, c.normEps);
                assertEquals(a.ropeTheta, c.ropeTheta);
                assertEquals(a.tiedEmbeddings, c.tiedEmbeddings);
                assertEquals(a.bosId, c.bosId);
                assertEquals(a.eosId, c.eosId);
            }
            assertEquals(hf.tensors().keySet(), l2c.tensors().keySet());
            int hd = a.headDim;
            for (String name : hf.tensors().keySet()) {
                Tensor x = hf.tensor(name), y = l2c.tensor(name);
                assertEquals(x.shape(), y.shape(), name);
                assertEquals(x.dtype(), DType.F32, name);
                boolean permuted = name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight");
                float[] xv = x.toFloatArray(), yv = y.toFloatArray();
                int cols = (int) x.cols();
                for (int row = 0; row < x.rows(); row++) {
                    int src = row;
                    if (permuted) {
                        int h = row / hd, i = row % hd;
                        src = h * hd + (i < hd / 2 ? 2 * i : 2 * (i - hd / 2) + 1);
                    }
                    for (int col = 0; col < cols; col++)
                        assertEquals(Float.floatToRawIntBits(xv[row * cols + col]), Float.floatToRawIntBits(yv[src * cols + col]),
                                name + " row " + row + " col " + col);
                }
            }
        }
    }

    @Test
    public void bf16CopyIsRoundedF32() throws Exception {
        Path f32 = SharedData.require("models/stories260K-hf");
        Path bf16 = SharedData.require("models/stories260K-hf-bf16");
        try (Model a = HfModelLoader.load(f32); Model b = HfModelLoader.load(bf16)) {
            assertEquals(b.tensors().keySet(), a.tensors().keySet());
            for (String name : a.tensors().keySet()) {
                Tensor x = a.tensor(name), y = b.tensor(name);
                assertEquals(y.dtype(), DType.BF16, name);
                assertEquals(y.shape(), x.shape(), name);
                short[] bits = new short[(int) y.cols()];
                for (long r = 0; r < y.rows(); r++) {
                    y.rowBits(r, 0, bits, 0, bits.length);
                    for (int c = 0; c < bits.length; c++)
                        assertEquals(bits[c], DType.floatToBf16(x.get(r * x.cols() + c)), name + " [" + r + "," + c + "]");
                }
            }
        }
    }
}
