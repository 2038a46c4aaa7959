package sleb.bench;

import java.util.ArrayList;
import java.util.List;
import sleb.model.ModelConfig;

/**
 * Arithmetic and memory traffic of forward passes, from the shape alone. FLOPs count the matrix
 * products (2 per multiply-add): the seven projections of each block, causal attention (QK^T and the
 * weighted sum of V, 4 * qDim per query per key position) and the lm_head rows computed. Norms, RoPE,
 * softmax and SwiGLU are left out (under 1% for these shapes). Bytes count what a pass must read at
 * least once: the weights of the blocks that run and of lm_head in their stored dtype, and the fp32
 * KV cache of every key position attended to; activations are assumed to stay in cache.
 */
public final class CostModel {
    private CostModel() {}

    /** One forward pass: its FLOPs and bytes. */
    public static final class Pass {
        public final double flops, bytes;

        Pass(double flops, double bytes) {
            this.flops = flops;
            this.bytes = bytes;
        }

        /** The least time the pass can take on a machine with these peaks (the roofline). */
        public double seconds(double peakGflops, double peakGBs) {
            return Math.max(flops / (peakGflops * 1e9), bytes / (peakGBs * 1e9));
        }
    }

    /** FLOPs of the projections of one block, per token: LLaMA's seven, OPT's six (q, k, v, out, fc1, fc2). */
    public static double blockMatmulFlopsPerToken(ModelConfig c) {
        if (c.opt != null) return 2.0 * (4.0 * c.dim * c.dim + 2.0 * c.dim * c.hiddenDim);
        return 2.0 * (2.0 * c.dim * c.qDim() + 2.0 * c.dim * c.kvDim() + 3.0 * c.dim * c.hiddenDim);
    }

    /**
     * batch sequences each appending n tokens after ctx0 cached positions, through {@code layers} blocks,
     * with lm_head computed for {@code logitRows} rows in all.
     */
    public static Pass forward(ModelConfig c, int layers, int batch, int n, int ctx0, int logitRows, int weightBytes) {
        double tokens = (double) batch * n;
        double attnPairs = (double) n * ctx0 + (double) n * (n + 1) / 2; // (query, key) pairs per sequence
        double flops = layers * (tokens * blockMatmulFlopsPerToken(c) + batch * 4.0 * c.qDim() * attnPairs)
                + logitRows * 2.0 * c.embedDim() * c.vocabSize;
        double weights = layers * (double) c.blockParams() * weightBytes + (double) c.vocabSize * c.embedDim() * weightBytes;
        double kv = layers * (double) batch * 2.0 * c.kvDim() * 4.0 * (ctx0 + n);
        return new Pass(flops, weights + kv);
    }

    /** Prompt processing: batch x promptLen tokens in one pass, logits of the last position only. */
    public static List<Pass> prompt(ModelConfig c, int layers, int batch, int promptLen, int weightBytes) {
        return List.of(forward(c, layers, batch, promptLen, 0, batch, weightBytes));
    }

    /** Generation: one prefill of promptLen tokens, then genLen single-token steps with the KV cache. */
    public static List<Pass> generate(ModelConfig c, int layers, int batch, int promptLen, int genLen, int weightBytes) {
        List<Pass> p = new ArrayList<>();
        p.add(forward(c, layers, batch, promptLen, 0, batch, weightBytes));
        for (int s = 0; s < genLen; s++) p.add(forward(c, layers, batch, 1, promptLen + s, batch, weightBytes));
        return p;
    }

    public static double flops(List<Pass> passes) {
        double f = 0;
        for (Pass p : passes) f += p.flops;
        return f;
    }

    public static double bytes(List<Pass> passes) {
        double b = 0;
        for (Pass p : passes) b += p.bytes;
        return b;
    }

    /** Sum over passes of the roofline time of each. */
    public static double rooflineSeconds(List<Pass> passes, double peakGflops, double peakGBs) {
        double t = 0;
        for (Pass p : passes) t += p.seconds(peakGflops, peakGBs);
        return t;
    }
}
