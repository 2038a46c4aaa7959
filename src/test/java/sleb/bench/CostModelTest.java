package sleb.bench;

import static org.testng.Assert.assertEquals;

import java.util.List;
import org.testng.annotations.Test;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;

/** FLOPs and bytes of a tiny shape, computed by hand. */
public class CostModelTest {
    // dim 8, hidden 16, 2 blocks, 2 heads of 4, 1 KV head (qDim 8, kvDim 4), vocab 10, untied
    private static final ModelConfig C = new ModelConfig("LlamaForCausalLM", "llama", 8, 16, 2, 2, 1, 4, 10, 64, 1e-5f, 10000,
            RopeStyle.HALF, false, false, null, 1, 2);

    @Test
    public void blockProjectionFlops() {
        // 2 * (q 8x8 + o 8x8 + k,v 2 x 8x4 + gate,up,down 3 x 8x16) = 2 * (128 + 64 + 384)
        assertEquals(CostModel.blockMatmulFlopsPerToken(C), 1152.0);
    }

    @Test
    public void promptPass() {
        // batch 1 x 3 tokens, 2 blocks: 3 tokens x 1152 per block; attention pairs 1+2+3 = 6, 4 x qDim 8 x 6 = 192 per block;
        // lm_head for one row: 2 x 8 x 10 = 160. FLOPs = 2 x (3456 + 192) + 160 = 7456.
        // Bytes: block params 8x8 + 2x8x4 + 8x8 + 3x8x16 + 2x8 = 592, x 2 blocks x 4 bytes = 4736; lm_head 10x8x4 = 320;
        // fp32 KV read: 2 blocks x 1 seq x 2 (k,v) x 4 x 4 bytes x 3 positions = 192. Total 5248.
        List<CostModel.Pass> p = CostModel.prompt(C, 2, 1, 3, 4);
        assertEquals(p.size(), 1);
        assertEquals(CostModel.flops(p), 7456.0);
        assertEquals(CostModel.bytes(p), 5248.0);
        // at 1 GFLOP/s and 1 GB/s the pass is compute bound: 7456 ns
        assertEquals(CostModel.rooflineSeconds(p, 1, 1), 7456e-9, 1e-15);
        // bf16 weights: 592 x 2 x 2 + 10 x 8 x 2 + 192 = 2368 + 160 + 192
        assertEquals(CostModel.bytes(CostModel.prompt(C, 2, 1, 3, 2)), 2720.0);
    }

    @Test
    public void generatePasses() {
        // batch 2, prompt 2, 1 step. Prefill: 4 tokens x 1152 + 2 seqs x 32 x 3 pairs = 4800 per block, x 2 + 2 x 160 = 9920.
        // Step at ctx0 2: 2 tokens x 1152 + 2 x 32 x 3 pairs (1 x 2 + 1) = 2496 per block, x 2 + 320 = 5312.
        List<CostModel.Pass> p = CostModel.generate(C, 2, 2, 2, 1, 4);
        assertEquals(p.size(), 2);
        assertEquals(p.get(0).flops, 9920.0);
        assertEquals(p.get(1).flops, 5312.0);
        // step bytes: weights 5056 + KV 2 blocks x 2 seqs x 2 x 4 x 4 bytes x 3 positions = 384
        assertEquals(p.get(1).bytes, 5056.0 + 384.0);
        // at 1 TFLOP/s and 1 byte/ns the step is bandwidth bound
        assertEquals(p.get(1).seconds(1000, 1), 5440e-9, 1e-15);
    }
}
