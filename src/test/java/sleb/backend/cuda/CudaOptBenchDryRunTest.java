package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.util.List;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.LoadedModel;
import sleb.bench.BenchRunner;
import sleb.model.Model;

/**
 * `sleb bench`'s protocols (prompt processing and KV-cached generation, dense and pruned) on an OPT model on the
 * dry-run device: every launch, GEMM and copy they plan passes the PTX-parameter, launch-limit and extent checks,
 * decode steps replay one captured graph per session, and nothing stays allocated. The shapes are the opt-tiny
 * fixtures' (both layouts); skips without ../shared.
 */
public class CudaOptBenchDryRunTest {
    @DataProvider
    public Object[][] fixtures() { return new Object[][] {{"opt-tiny-preln"}, {"opt-tiny-postln-proj"}}; }

    @Test(dataProvider = "fixtures")
    public void benchProtocolsPlanOnlyValidLaunches(String name) throws Exception {
        try (Model m = CudaOptTest.fixture(name)) {
            CudaDevice dev = CudaDevice.dryRun(1L << 30);
            CudaBackend be = new CudaBackend(dev);
            int L = m.config().nLayers;
            int[] all = java.util.stream.IntStream.range(0, L).toArray(), pruned = java.util.stream.IntStream.range(0, L - 2).toArray();
            List<BenchRunner.Variant> variants = List.of(new BenchRunner.Variant("dense", all), new BenchRunner.Variant("pruned", pruned));
            try (LoadedModel lm = be.load(m)) {
                BenchRunner.run(lm, new BenchRunner.Protocol(BenchRunner.Mode.PROMPT, 2, 128, 0), variants, 1, 2, 1, line -> { });
                int replays0 = dev.dry.replays;
                BenchRunner.run(lm, new BenchRunner.Protocol(BenchRunner.Mode.GENERATE, 2, 16, 8), variants, 0, 2, 1, line -> { });
                // 2 iterations x 2 variants, each a session whose 8 steps replay the graph its first step captured
                assertEquals(dev.dry.replays - replays0, 2 * 2 * 8);
            }
            assertTrue(dev.dry.launches.size() > 100, "launches recorded: " + dev.dry.launches.size());
            assertEquals(dev.dry.live(), List.of(), "blocks still allocated after the model was closed");
            be.close();
        }
    }
}
