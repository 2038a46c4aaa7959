package sleb.backend.cuda;

import static org.testng.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.testng.annotations.Test;

/**
 * `make gpu-check`'s benchmark on a dry-run device, on every machine: every launch, GEMM and copy it makes
 * (at the 7B kernel shapes, and the model part on a small shape) passes the PTX-parameter, launch-limit
 * and extent checks, so device minutes are not lost to a wrong argument. The times it prints mean nothing.
 */
public class CudaBenchDryRunTest {
    @Test
    public void benchmarkMakesOnlyValidLaunches() {
        CudaDevice dev = CudaDevice.dryRun(64L << 30);
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CudaBench.run(dev, 2e12, 50e12, 500e12, CudaBench.shape(4, 256, 688, 4, 2, 1000));
        } finally {
            System.setOut(old);
            dev.close();
        }
        String text = out.toString(StandardCharsets.UTF_8);
        for (String row : new String[] {"attention_prefill (causal, T=2048)", "nll_rows (256 x 32000)", "gemm q|k|v bf16", "dense (4 blocks)", "pruned (3 blocks)"})
            assertTrue(text.contains(row), "benchmark output lacks '" + row + "':\n" + text);
        assertTrue(dev.dry.launches.size() > 100, "launches recorded: " + dev.dry.launches.size());
    }
}
