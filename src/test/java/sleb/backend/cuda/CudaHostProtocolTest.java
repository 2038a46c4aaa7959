package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertThrows;
import static org.testng.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.backend.Activations;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.backend.SplitLoadedModel;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;

/**
 * The CUDA backend's host code on a dry-run device (no GPU needed, runs everywhere): every launch
 * matches its kernel's PTX parameters and the launch limits, every pointer lies in a live block,
 * GEMM operands fit their buffers, a decode step is captured once (with no allocation inside the
 * capture) and replayed, and closing a model and its sessions leaves nothing allocated. Numbers are
 * not computed here: CudaModelTest checks them on a GPU, and native-kernels/emu the kernels on the CPU.
 */
public class CudaHostProtocolTest {
    private static ModelConfig config(boolean bias, RopeStyle style, int layers) {
        return new ModelConfig("LlamaForCausalLM", bias ? "qwen2" : "llama", 64, 96, layers, 4, 2, 16, 50, 128, 1e-5f, 10000.0,
                style, false, bias, null, 1, 2);
    }

    @DataProvider
    public Object[][] variants() {
        return new Object[][] {{DType.F32, RopeStyle.ADJACENT, false}, {DType.BF16, RopeStyle.HALF, true}, {DType.F16, RopeStyle.HALF, false}};
    }

    private static List<String> names(List<DryRun.Launch> ls) {
        List<String> out = new ArrayList<>();
        for (DryRun.Launch l : ls) out.add(l.fn);
        return out;
    }

    /** The launches of one block, written out from the block's definition (not read off the code). */
    private static List<String> blockRecipe(DType t, boolean bias, RopeStyle style, String attention, boolean cache) {
        String sfx = t == DType.F32 ? "f32" : t == DType.BF16 ? "bf16" : "f16";
        List<String> r = new ArrayList<>(List.of("rmsnorm_" + sfx, "gemm"));
        if (bias) r.add("add_bias");
        r.add(style == RopeStyle.HALF ? "rope_half" : "rope_adjacent");
        if (cache) r.add("kv_append");
        r.add(attention);
        if (t != DType.F32) r.add("f32_to_" + sfx);
        r.addAll(List.of("gemm", "rmsnorm_residual_" + sfx, "gemm", "swiglu_" + sfx, "gemm"));
        return r;
    }

    @Test(dataProvider = "variants")
    public void forwardPassKeepsTheProtocol(DType t, RopeStyle style, boolean bias) {
        Model m = SyntheticModel.create(config(bias, style, 3), t, 5);
        CudaDevice dev = CudaDevice.dryRun(1L << 30);
        int[][] tokens = new int[2][19];
        for (int b = 0; b < 2; b++) for (int i = 0; i < 19; i++) tokens[b][i] = (i * 7 + b) % 50;
        CudaBackend be = new CudaBackend(dev);
        try (LoadedModel lm = be.load(m)) {
            try (Activations x = lm.embed(tokens)) {
                assertEquals(names(dev.dry.launches), List.of("embedding_" + CudaOps.suffix(t)));
                dev.dry.launches.clear();
                lm.runBlock(1, x);
                assertEquals(names(dev.dry.launches), blockRecipe(t, bias, style, "attention_prefill", false));
                lm.runBlock(2, x);
                lm.nll(x, tokens);
                lm.positionNll(x, tokens);
                lm.lastLogits(x);
                ModelLogits.every(lm, x);
                try (Activations y = lm.copy(x); Activations z = lm.fromHost(new float[2 * 19 * 64], 2, 19)) {
                    lm.cosineSum(x, y);
                    lm.cosineSum(x, z);
                }
            }
            try (Activations x = lm.embed(tokens)) {
                assertThrows(IllegalArgumentException.class, () -> lm.runBlock(3, x));
            }
        }
        assertEquals(dev.dry.live(), List.of(), "blocks still allocated after the model and its activations were closed");
        be.close();
    }

    @Test(dataProvider = "variants")
    public void decodeStepIsCapturedOnceAndReplayed(DType t, RopeStyle style, boolean bias) {
        Model m = SyntheticModel.create(config(bias, style, 3), t, 6);
        CudaDevice dev = CudaDevice.dryRun(1L << 30);
        int[] blocks = {0, 2};
        CudaBackend be = new CudaBackend(dev);
        try (CudaLoadedModel lm = (CudaLoadedModel) be.load(m)) {
            for (boolean graphs : new boolean[] {true, false}) {
                int replays0 = dev.dry.replays;
                lm.ensureRope(24); // the model's RoPE table grows to the session's length and stays with the model
                List<String> weights = dev.dry.live();
                try (CudaDecodeSession s = lm.newSession(2, 24, blocks, graphs)) {
                    s.prefill(new int[][] {{1, 2, 3, 4}, {5, 6, 7, 8}});
                    dev.dry.launches.clear();
                    s.step(new int[] {9, 10});
                    List<String> step = names(dev.dry.launches);
                    List<String> want = new ArrayList<>(List.of("embedding_" + CudaOps.suffix(t)));
                    for (int b : blocks) want.addAll(blockRecipe(t, bias, style, "attention_decode", true));
                    want.addAll(List.of("rmsnorm_" + CudaOps.suffix(t), "gemm"));
                    assertEquals(step, want, (graphs ? "captured step " : "eager step ") + step);
                    for (int i = 0; i < 19; i++) s.step(new int[] {i % 50, (i + 1) % 50});
                    assertEquals(s.position(), 24);
                    assertEquals(dev.dry.replays - replays0, graphs ? 20 : 0);
                    assertEquals(s.usesGraphs(), graphs);
                    assertThrows(IllegalStateException.class, () -> s.step(new int[] {1, 1}));
                }
                assertEquals(dev.dry.live(), weights, "blocks still allocated after the session (graphs " + graphs + ") was closed");
            }
        }
        assertEquals(dev.dry.live(), List.of(), "blocks still allocated after the model was closed");
        be.close();
    }

    @Test
    public void splitDecodeRunsEachBlockOnItsDevice() {
        Model m = SyntheticModel.create(config(false, RopeStyle.HALF, 4), DType.BF16, 7);
        CudaDevice d0 = CudaDevice.dryRun(1L << 30), d1 = CudaDevice.dryRun(1L << 30);
        CudaSplitBackend be = new CudaSplitBackend(new CudaBackend[] {new CudaBackend(d0), new CudaBackend(d1)});
        try (LoadedModel lm = be.load(m)) {
            assertTrue(lm instanceof SplitLoadedModel);
            try (DecodeSession s = lm.newSession(1, 12, new int[] {0, 1, 3})) {
                s.prefill(new int[][] {{3, 4, 5}});
                d0.dry.launches.clear();
                d1.dry.launches.clear();
                s.step(new int[] {6});
                // blocks 0 and 1 on cuda:0, block 3 on cuda:1; the embedding runs where the sequence starts
                long attn0 = names(d0.dry.launches).stream().filter("attention_decode"::equals).count();
                long attn1 = names(d1.dry.launches).stream().filter("attention_decode"::equals).count();
                assertEquals(attn0, 2);
                assertEquals(attn1, 1);
                // each part replays a graph of its blocks per step; the prompt ran eagerly
                for (int i = 0; i < 7; i++) s.step(new int[] {7 + i});
                assertEquals(d0.dry.replays, 8);
                assertEquals(d1.dry.replays, 8);
                assertEquals(s.position(), 11);
            }
        }
        assertEquals(d0.dry.live(), List.of());
        assertEquals(d1.dry.live(), List.of());
        be.close();
    }

    @Test
    public void runningOutOfMemoryNamesWhatDidNotFitAndLeaksNothing() {
        Model m = SyntheticModel.create(config(false, RopeStyle.HALF, 2), DType.BF16, 8);
        CudaDevice small = CudaDevice.dryRun(64 << 10);
        CudaOutOfMemoryException e = org.testng.Assert.expectThrows(CudaOutOfMemoryException.class, () -> new CudaBackend(small).load(m));
        assertTrue(e.getMessage().contains("weights") && e.getMessage().contains("MiB"), e.getMessage());

        CudaDevice dev = CudaDevice.dryRun(4 << 20);
        CudaBackend be = new CudaBackend(dev);
        try (LoadedModel lm = be.load(m)) {
            CudaOutOfMemoryException kv = org.testng.Assert.expectThrows(CudaOutOfMemoryException.class, () -> lm.newSession(64, 4096, new int[] {0, 1}));
            assertTrue(kv.getMessage().contains("KV cache"), kv.getMessage());
            try (DecodeSession s = lm.newSession(1, 8, new int[] {0, 1})) {
                s.prefill(new int[][] {{1, 2}});
            }
        }
        assertEquals(dev.dry.live(), List.of());
        be.close();
    }

    /** SLEB's cache budget on a GPU: half the device memory left free by the weights (smallest part for a split). */
    @Test
    public void defaultCacheBudgetIsHalfTheFreeDeviceMemory() {
        Model m = SyntheticModel.create(config(false, RopeStyle.HALF, 4), DType.BF16, 9);
        CudaDevice dev = CudaDevice.dryRun(64L << 20);
        CudaBackend be = new CudaBackend(dev);
        try (LoadedModel lm = be.load(m)) {
            assertEquals(lm.defaultCacheBytes(), dev.memInfo()[0] / 2);
            assertTrue(dev.memInfo()[0] < 64L << 20 && dev.memInfo()[0] > 32L << 20, "weights take some of it: " + dev.memInfo()[0]);
        }
        be.close();
        CudaDevice small = CudaDevice.dryRun(8L << 20), big = CudaDevice.dryRun(64L << 20);
        CudaSplitBackend split = new CudaSplitBackend(new CudaBackend[] {new CudaBackend(big), new CudaBackend(small)});
        try (LoadedModel lm = split.load(m)) {
            assertEquals(lm.defaultCacheBytes(), small.memInfo()[0] / 2);
        }
        split.close();
    }

    /** The checks themselves: a launch with the wrong arguments, a freed pointer, an overrun. */
    @Test
    public void dryRunRejectsWhatAGpuWouldMisread() {
        CudaDevice dev = CudaDevice.dryRun(1 << 20);
        CUdeviceptr a = dev.alloc(1024, "a"), b = dev.alloc(1024, "b");
        dev.launch("nll_rows", 2, 1, 1, 1024, 1, 0, a, b, b, 100);
        IllegalArgumentException args = org.testng.Assert.expectThrows(IllegalArgumentException.class,
                () -> dev.launch("rope_half", 1, 1, 1, 128, 1, 0, a, b, 1, 0, 8, 1, 1, 8)); // without pos_dev
        assertTrue(args.getMessage().contains("rope_half takes (u64, u64, u32, u32, u64, u32, u32, u32, u32)"), args.getMessage());
        assertThrows(IllegalStateException.class, () -> dev.launch("nll_rows", 1, 1, 1, 2048, 1, 0, a, b, b, 100)); // > 1024 threads
        assertThrows(IllegalStateException.class, () -> dev.launch("attention_decode", 1, 1, 1, 256, 1, 64 << 10,
                a, 8, a, a, 8, 8L, b, 8, 1, CudaDevice.NULL, 1, 1, 8, 1f, 0)); // 64 KiB shared memory without opting in
        dev.gemm(DType.F32, a, b, b, 16, 16, 2, 0f); // C [16 x 16] fp32 fills b exactly
        assertThrows(IllegalStateException.class, () -> dev.gemm(DType.F32, a, b, b, 16, 17, 2, 0f)); // C [16 x 17] overruns it
        dev.free(a);
        assertEquals(dev.dry.live(), List.of("b (1024 B)"));
        IllegalStateException uaf = org.testng.Assert.expectThrows(IllegalStateException.class,
                () -> dev.launch("cosine_rows", 1, 1, 1, 256, 1, 0, a, b, b, 8));
        assertTrue(uaf.getMessage().contains("already freed"), uaf.getMessage());
        dev.close();
    }
}
