package sleb.backend.cuda;

import static org.testng.Assert.assertTrue;
import static org.testng.Assert.expectThrows;

import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.backend.NonFiniteWeightsTest;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelFormatException;

/** The CUDA backend's upload (on the CPU kernel emulator) stops at a NaN or infinite weight, naming the tensor and element. */
public class CudaEmulatedNonFiniteTest {
    @BeforeClass
    public void device() { CudaTestSupport.requireEmulator(); }

    /**
     * An fp16 model (so fp16 GEMMs) with one matrix stored in fp32 holding 1e5: finite there, infinite once the
     * upload narrows it to fp16 (largest finite 65504). The load stops instead of computing with infinity.
     */
    @Test
    public void narrowingToTheGemmDtypeMustNotOverflow() {
        sleb.model.ModelConfig c = NonFiniteWeightsTest.configForCuda();
        String name = "model.layers.1.mlp.down_proj.weight";
        Model f16 = sleb.model.SyntheticModel.create(c, DType.F16, 5);
        java.util.Map<String, sleb.model.Tensor> t = new java.util.LinkedHashMap<>(f16.tensors());
        float[] v = t.get(name).toFloatArray();
        v[2 * c.hiddenDim + 5] = 1e5f;
        t.put(name, sleb.model.Tensor.ofFloats(name, DType.F32, t.get(name).shape(), v));
        Model mixed = new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null);
        try (CudaBackend be = CudaTestSupport.emulatedBackend()) {
            ModelFormatException e = expectThrows(ModelFormatException.class, () -> be.load(mixed));
            assertTrue(e.getMessage().contains("tensor " + name + " holds 100000.0 at [2, 5], beyond the range of F16"), e.getMessage());
        }
        v[2 * c.hiddenDim + 5] = 6e4f; // representable in fp16: loads
        t.put(name, sleb.model.Tensor.ofFloats(name, DType.F32, t.get(name).shape(), v));
        try (CudaBackend be = CudaTestSupport.emulatedBackend(); sleb.backend.LoadedModel lm = be.load(new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null))) {
            assertTrue(lm != null);
        }
    }

    @Test(dataProviderClass = NonFiniteWeightsTest.class, dataProvider = "cases")
    public void uploadNamesTheTensor(DType dtype, String name, int row, int col, float bad, String at) {
        Model m = NonFiniteWeightsTest.poisoned(NonFiniteWeightsTest.configForCuda(), dtype, name, row, col, bad);
        try (CudaBackend be = CudaTestSupport.emulatedBackend()) {
            ModelFormatException e = expectThrows(ModelFormatException.class, () -> be.load(m));
            assertTrue(e.getMessage().contains("tensor " + name + " holds " + bad + " at " + at), e.getMessage());
        }
    }
}
