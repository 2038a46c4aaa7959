package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.LoadedModel;
import sleb.bench.BenchRunner;
import sleb.bench.Shapes;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.OptLayout;
import sleb.model.Tensor;

/**
 * What `sleb bench --synthetic opt-* --device cuda` plans, on the dry-run device at the paper's OPT shapes
 * (models/opt-*, two blocks each): the upload, prompt processing (batch 2 x 256) and KV-cached generation
 * (dense and with a block removed) make only launches, GEMMs and copies that pass the PTX-parameter, launch-limit
 * and extent checks, and leave nothing allocated. The weights are zeros that every row of every tensor shares
 * (a dry-run device computes nothing), so the test needs no gigabytes of host memory as SyntheticModel would.
 */
public class CudaOptShapesDryRunTest {
    @DataProvider
    public Object[][] shapes() { return new Object[][] {{"opt-6.7b"}, {"opt-13b"}, {"opt-30b"}, {"opt-66b"}}; }

    /** Every tensor of the config's OPT layout, in t, each row reading the same zero buffer. */
    static Model zeros(ModelConfig c, DType t) {
        Map<String, Tensor> ts = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : OptLayout.requiredShapes(c).entrySet()) {
            long[] shape = e.getValue();
            long rows = shape.length == 1 ? 1 : shape[0], rowElems = Tensor.numel(shape) / rows;
            ByteBuffer row = ByteBuffer.allocate(Math.toIntExact(rowElems * t.bytes));
            ByteBuffer[] chunks = new ByteBuffer[Math.toIntExact(rows)];
            Arrays.fill(chunks, row);
            ts.put(e.getKey(), new Tensor(e.getKey(), t, shape, chunks, 1));
        }
        return new Model(c, ts, null, Model.SourceFormat.SYNTHETIC, null);
    }

    @Test(dataProvider = "shapes")
    public void benchPlansOnlyValidLaunches(String shape) throws Exception {
        ModelConfig c = Shapes.config(shape, 2);
        assertTrue(c.isOpt(), shape + " is not read as OPT");
        CudaDevice dev = CudaDevice.dryRun(256L << 30);
        CudaBackend be = new CudaBackend(dev);
        List<BenchRunner.Variant> variants = List.of(new BenchRunner.Variant("dense", new int[] {0, 1}), new BenchRunner.Variant("pruned", new int[] {1}));
        try (LoadedModel lm = be.load(zeros(c, DType.BF16))) {
            BenchRunner.run(lm, new BenchRunner.Protocol(BenchRunner.Mode.PROMPT, 2, 256, 0), variants, 0, 1, 1, line -> { });
            BenchRunner.run(lm, new BenchRunner.Protocol(BenchRunner.Mode.GENERATE, 2, 8, 3), variants, 0, 1, 1, line -> { });
        }
        assertTrue(dev.dry.launches.size() > 50, "launches recorded: " + dev.dry.launches.size());
        assertEquals(dev.dry.live(), List.of(), "blocks still allocated after the model was closed");
        be.close();
    }
}
