package sleb.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;

/**
 * A short GPU benchmark for `make gpu-check` (well under a minute): each kernel at LLaMA-7B layer
 * shapes against its memory or compute floor, then prefill and decode tokens/s of a synthetic (SyntheticModel)
 * TinyLlama-shaped bf16 model, dense and with a quarter of its blocks removed.
 */
public final class CudaBench {
    private static CudaDevice dev;
    private static double bw, fp32, tensor; // bytes/s, flop/s

    public static void main(String[] args) {
        String why = CudaBackend.probe();
        if (why != null) {
            System.out.println("no CUDA GPU: " + why);
            return;
        }
        dev = new CudaDevice(0);
        CUdevice d = new CUdevice();
        cuDeviceGet(d, 0);
        int[] v = {0};
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, d);
        double memClk = v[0] * 1e3;
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, d);
        bw = 2 * memClk * v[0] / 8;
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
        int sms = v[0];
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE, d);
        double clk = v[0] * 1e3;
        fp32 = sms * clk * 128 * 2;
        tensor = sms * clk * (dev.computeMajor >= 9 ? 4096 : 2048); // dense bf16 flop/clk/SM (A100 / H100 class)
        System.out.printf("GPU: %s; floors from attributes: %.0f GB/s, fp32 %.1f TFLOP/s, bf16 tensor %.0f TFLOP/s%n",
                dev.describe(), bw / 1e9, fp32 / 1e12, tensor / 1e12);
        try {
            kernels();
            model(shape(12, 2048, 5632, 32, 4, 32000));
        } finally {
            dev.close();
        }
    }

    /** The same benchmark on any device and model shape (CudaBenchDryRunTest runs it on a dry-run device). */
    static void run(CudaDevice device, double bytesPerSecond, double fp32Flops, double tensorFlops, ModelConfig shape) {
        dev = device;
        bw = bytesPerSecond;
        fp32 = fp32Flops;
        tensor = tensorFlops;
        kernels();
        model(shape);
    }

    /** TinyLlama-like shapes: head_dim 64. */
    static ModelConfig shape(int layers, int dim, int hidden, int heads, int kvHeads, int vocab) {
        return new ModelConfig("LlamaForCausalLM", "llama", dim, hidden, layers, heads, kvHeads, dim / heads, vocab, 4096, 1e-5f, 10000,
                RopeStyle.HALF, false, false, null, 1, 2);
    }

    interface Op { void run(); }

    static double time(Op op) {
        op.run();
        dev.synchronize();
        int reps = 10;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) op.run();
        dev.synchronize();
        return (System.nanoTime() - t0) / 1e9 / reps;
    }

    static void row(String name, double sec, double bytes, double flops, double flopRate) {
        double floor = Math.max(bytes / bw, flops / flopRate);
        System.out.printf("%-34s %10.1f us %10.1f us %7.1f%%  %s%n", name, sec * 1e6, floor * 1e6, 100 * floor / sec,
                bytes / bw >= flops / flopRate ? "memory" : "compute");
    }

    static CUdeviceptr buf(long bytes) {
        CUdeviceptr p = dev.alloc(bytes, "bench");
        dev.fill32(p, 0x3c000000, bytes / 4); // 0.0078125f, finite everywhere
        return p;
    }

    static void kernels() {
        int N = 2048, D = 4096, H = 11008, nH = 32, hd = 128, V = 32000, qkv = 3 * D;
        System.out.printf("%n%-34s %13s %13s %8s  %s%n", "kernel (7B layer, 2048 tokens)", "time", "floor", "of floor", "bound");
        CUdeviceptr x = buf(4L * N * D), xn = buf(2L * N * D), w = buf(4L * D), q = buf(4L * N * qkv), att = buf(4L * N * D);
        CUdeviceptr gu = buf(4L * N * 2 * H), sw = buf(2L * N * H), wq = buf(2L * qkv * D), rope = buf(8L * N * hd / 2);
        CUdeviceptr ids = buf(4L * N), table = buf(2L * V * D), logits = buf(4L * 256 * V), tg = buf(4L * 256), per = buf(8L * 256);
        dev.fill32(ids, 5, N);
        dev.fill32(tg, 7, 256);
        row("rmsnorm_bf16", time(() -> CudaOps.rmsnorm(dev, DType.BF16, x, w, xn, N, D, 1e-5f)), 6.0 * N * D, 0, fp32);
        row("rmsnorm_residual_bf16", time(() -> CudaOps.rmsnormResidual(dev, DType.BF16, x, att, w, xn, N, D, 1e-5f)), 14.0 * N * D, 0, fp32);
        row("embedding_bf16", time(() -> CudaOps.embedding(dev, DType.BF16, ids, table, x, N, D)), 6.0 * N * D, 0, fp32);
        row("rope_half (q+k)", time(() -> CudaOps.rope(dev, RopeStyle.HALF, q, rope, 1, N, 0, CudaDevice.NULL, qkv, nH, nH, hd)), 16.0 * N * D, 0, fp32);
        row("swiglu_bf16", time(() -> CudaOps.swiglu(dev, DType.BF16, gu, sw, N, H)), 10.0 * N * H, 0, fp32);
        row("f32_to_bf16", time(() -> CudaOps.f32To(dev, DType.BF16, att, xn, (long) N * D)), 6.0 * N * D, 0, fp32);
        row("attention_prefill (causal, T=2048)", time(() -> CudaOps.attentionPrefill(dev,
                q, qkv, q.withByteOffset(4L * D), q.withByteOffset(8L * D), qkv, (long) N * qkv, att, D, 1, N, 0, nH, nH, hd, 0.088f, 0)),
                4.0 * N * qkv, 2.0 * nH * (double) N * N * hd, fp32);
        row("attention_decode (L=2048)", time(() -> CudaOps.attentionDecode(dev,
                q, qkv, q.withByteOffset(4L * D), q.withByteOffset(8L * D), qkv, (long) N * qkv, att, D, 1, N, CudaDevice.NULL, nH, nH, hd, 0.088f, 0)),
                8.0 * N * D, 4.0 * N * D, fp32);
        row("nll_rows (256 x 32000)", time(() -> CudaOps.nllRows(dev, logits, tg, per, 256, V)), 4.0 * 256 * V, 0, fp32);
        row("gemm q|k|v bf16 (" + (dev.usesCublas() ? "cuBLAS" : "fallback") + ")", time(() -> dev.gemm(DType.BF16, xn, wq, q, N, qkv, D, 0f)),
                2.0 * (N * D + (double) qkv * D) + 4.0 * N * qkv, 2.0 * N * (double) qkv * D, tensor);
        row("gemm_wmma_bf16 (fallback kernel)", time(() -> CudaOps.gemmKernel(dev, DType.BF16, xn, wq, q, N, qkv, D, 0f)),
                2.0 * (N * D + (double) qkv * D) + 4.0 * N * qkv, 2.0 * N * (double) qkv * D, tensor);
        for (CUdeviceptr p : new CUdeviceptr[] {x, xn, w, q, att, gu, sw, wq, rope, ids, table, logits, tg, per}) dev.free(p);
        dev.trim();
    }

    static void model(ModelConfig shape) {
        int L = shape.nLayers;
        Model m = SyntheticModel.create(shape, DType.BF16, 1);
        int[] dense = new int[L], pruned = new int[L - L / 4];
        for (int i = 0; i < L; i++) dense[i] = i;
        for (int i = 0, j = 0; i < L; i++) if (i % 4 != 1) pruned[j++] = i;
        CudaBackend be = new CudaBackend(dev); // not closed here: the device is the caller's
        try (LoadedModel lm = be.load(m)) {
            System.out.printf("%nsynthetic bf16 model: %s%n", m.config().describe());
            System.out.printf("%-22s %16s %16s %16s%n", "", "prefill tok/s", "decode tok/s", "eager decode");
            int[][] toks = new int[4][1024];
            for (int[] row : toks) for (int i = 0; i < row.length; i++) row[i] = (i * 31 + 7) % shape.vocabSize;
            for (int[] blocks : new int[][] {dense, pruned}) {
                lm.nll(toks, blocks);
                long t0 = System.nanoTime();
                int reps = 3;
                for (int i = 0; i < reps; i++) lm.nll(toks, blocks);
                double prefill = reps * 4.0 * 1024 / ((System.nanoTime() - t0) / 1e9);
                double[] decode = new double[2];
                for (int g = 0; g < 2; g++) {
                    try (CudaDecodeSession s = ((CudaLoadedModel) lm).newSession(1, 256, blocks, g == 0)) {
                        s.prefill(new int[][] {java.util.Arrays.copyOf(toks[0], 64)});
                        for (int i = 0; i < 8; i++) s.step(new int[] {i + 3});
                        long t1 = System.nanoTime();
                        int steps = 64;
                        for (int i = 0; i < steps; i++) s.step(new int[] {i + 11});
                        decode[g] = steps / ((System.nanoTime() - t1) / 1e9);
                        if (g == 0 && !s.usesGraphs()) System.out.println("(graph capture failed: the decode column is eager too)");
                    }
                }
                System.out.printf("%-22s %16.0f %16.1f %16.1f%n", blocks.length == L ? "dense (" + L + " blocks)" : "pruned (" + blocks.length + " blocks)",
                        prefill, decode[0], decode[1]);
            }
        }
    }
}
