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

    @Test(dataProviderClass = NonFiniteWeightsTest.class, dataProvider = "cases")
    public void uploadNamesTheTensor(DType dtype, String name, int row, int col, float bad, String at) {
        Model m = NonFiniteWeightsTest.poisoned(NonFiniteWeightsTest.configForCuda(), dtype, name, row, col, bad);
        try (CudaBackend be = CudaTestSupport.emulatedBackend()) {
            ModelFormatException e = expectThrows(ModelFormatException.class, () -> be.load(m));
            assertTrue(e.getMessage().contains("tensor " + name + " holds " + bad + " at " + at), e.getMessage());
        }
    }
}
