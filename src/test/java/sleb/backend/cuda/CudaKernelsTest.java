package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static sleb.backend.cuda.CudaTestSupport.*;

import java.util.Random;
import jcuda.driver.CUdeviceptr;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.model.DType;
import sleb.model.RopeStyle;

/** Each kernel against a plain Java (double) reference on fresh random inputs. Skips without a GPU. */
public class CudaKernelsTest {
    private CudaDevice dev;
    private final Random rnd = new Random(1234);

    @BeforeClass
    public void open() {
        requireDevice();
        dev = device();
    }

    /** Skips the class when its device is missing: a GPU here, the CPU emulator in {@link CudaEmulatedKernelsTest}. */
    protected void requireDevice() { requireGpu(); }

    protected CudaDevice device() { return new CudaDevice(0); }

    @AfterClass(alwaysRun = true)
    public void close() {
        if (dev != null) dev.close();
    }

    // buffers are not freed one by one: closing the device frees them all
    private CUdeviceptr in(float[] a, DType t) { return upload(dev, a, t); }
    private CUdeviceptr out(long n, DType t) { return poisoned(dev, n, t); }
    private CUdeviceptr ints(int[] a) { return dev.uploadInts(a, "test ints"); }

    @DataProvider
    public Object[][] dtypes() { return new Object[][] {{DType.F32}, {DType.BF16}, {DType.F16}}; }

    @Test(dataProvider = "dtypes")
    public void rmsnorm(DType t) {
        int rows = 7, dim = 300;
        float eps = 1e-5f;
        float[] x = randn(rnd, rows * dim, 1.0), r = randn(rnd, rows * dim, 0.5), w = randn(rnd, dim, 1.0);
        double[] ref = new double[rows * dim], ref2 = new double[rows * dim], xr = new double[rows * dim];
        for (int row = 0; row < rows; row++) {
            double ss = 0, ss2 = 0;
            for (int i = 0; i < dim; i++) {
                double v = x[row * dim + i], v2 = (double) (x[row * dim + i] + r[row * dim + i]);
                xr[row * dim + i] = v2;
                ss += v * v;
                ss2 += v2 * v2;
            }
            for (int i = 0; i < dim; i++) {
                ref[row * dim + i] = x[row * dim + i] / Math.sqrt(ss / dim + eps) * w[i];
                ref2[row * dim + i] = xr[row * dim + i] / Math.sqrt(ss2 / dim + eps) * w[i];
            }
        }
        String s = CudaOps.suffix(t);
        CUdeviceptr xp = in(x, DType.F32), wp = in(w, DType.F32), o = out(rows * dim, t);
        CudaOps.rmsnorm(dev, t, xp, wp, o, rows, dim, eps);
        assertClose(download(dev, o, rows * dim, t), ref, tol(t), 1e-3, "rmsnorm_" + s);

        CUdeviceptr rp = in(r, DType.F32), o2 = out(rows * dim, t);
        CudaOps.rmsnormResidual(dev, t, xp, rp, wp, o2, rows, dim, eps);
        assertClose(dev.downloadFloats(xp, rows * dim), xr, 1e-6, 1e-3, "x after residual add");
        assertClose(download(dev, o2, rows * dim, t), ref2, tol(t), 1e-3, "rmsnorm_residual_" + s);
    }

    /**
     * torch.nn.LayerNorm in double: biased variance; rows far from zero (mean 30) as a one-pass variance would get wrong.
     * Bound relative to max(|ref|, 1): the outputs are O(1) and w·x̂ + b can cancel to near zero.
     */
    @Test(dataProvider = "dtypes")
    public void layernorm(DType t) {
        int rows = 7, dim = 300;
        float eps = 1e-5f;
        float[] x = randn(rnd, rows * dim, 2.0), w = randn(rnd, dim, 1.0), b = randn(rnd, dim, 0.5);
        for (int i = 0; i < x.length; i++) x[i] += 30f;
        double[] ref = new double[rows * dim];
        for (int row = 0; row < rows; row++) {
            double mean = 0, var = 0;
            for (int i = 0; i < dim; i++) mean += x[row * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) var += (x[row * dim + i] - mean) * (x[row * dim + i] - mean);
            var /= dim;
            for (int i = 0; i < dim; i++) ref[row * dim + i] = (x[row * dim + i] - mean) / Math.sqrt(var + eps) * w[i] + b[i];
        }
        CUdeviceptr xp = in(x, DType.F32), wp = in(w, DType.F32), bp = in(b, DType.F32), o = out(rows * dim, t);
        CudaOps.layernorm(dev, t, xp, wp, bp, o, rows, dim, eps);
        assertClose(download(dev, o, rows * dim, t), ref, tol(t), 1, "layernorm_" + CudaOps.suffix(t));
        if (t == DType.F32) { // in place, as a post-LN block normalises its residual stream
            CudaOps.layernorm(dev, t, xp, wp, bp, xp, rows, dim, eps);
            assertClose(dev.downloadFloats(xp, rows * dim), ref, 1e-5, 1, "layernorm_f32 in place");
        }
    }

    /** OPT's learned positions: row pos + 2 of the table, positions from the host argument and/or device memory. */
    @Test(dataProvider = "dtypes")
    public void positionEmbeddingAdd(DType t) {
        int B = 2, T = 4, dim = 40, offset = 2, hostPos = 3, devicePos = 5, pos0 = hostPos + devicePos, rows = pos0 + T + offset;
        float[] x = randn(rnd, B * T * dim, 1.0), table = round(randn(rnd, rows * dim, 1.0), t);
        double[] ref = new double[x.length];
        for (int r = 0; r < B * T; r++)
            for (int i = 0; i < dim; i++) ref[r * dim + i] = (float) (x[r * dim + i] + table[(pos0 + r % T + offset) * dim + i]);
        CUdeviceptr tp = in(table, t), a = in(x, DType.F32), c = in(x, DType.F32);
        CudaOps.positionEmbeddingAdd(dev, t, a, tp, B, T, pos0, CudaDevice.NULL, offset, dim);
        assertClose(dev.downloadFloats(a, x.length), ref, 0, 1, "position_embedding_add_" + CudaOps.suffix(t));
        CudaOps.positionEmbeddingAdd(dev, t, c, tp, B, T, hostPos, ints(new int[] {devicePos}), offset, dim);
        assertClose(dev.downloadFloats(c, x.length), ref, 0, 1, "position_embedding_add_" + CudaOps.suffix(t) + " with pos_dev");
    }

    static float[] ropeTable(double[] inv, int positions) {
        int half = inv.length;
        float[] cs = new float[positions * half * 2];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < half; i++) {
                cs[(p * half + i) * 2] = (float) Math.cos(p * inv[i]);
                cs[(p * half + i) * 2 + 1] = (float) Math.sin(p * inv[i]);
            }
        return cs;
    }

    @DataProvider
    public Object[][] ropeStyles() { return new Object[][] {{true}, {false}}; }

    @Test(dataProvider = "ropeStyles")
    public void rope(boolean half) {
        int B = 2, T = 5, pos0 = 3, nH = 4, nKv = 2, hd = 16, stride = (nH + 2 * nKv) * hd, hh = hd / 2;
        double[] inv = new double[hh];
        for (int i = 0; i < hh; i++) inv[i] = 1.0 / Math.pow(10000, 2.0 * i / hd);
        float[] qkv = randn(rnd, B * T * stride, 1.0);
        double[] ref = new double[qkv.length];
        for (int i = 0; i < qkv.length; i++) ref[i] = qkv[i];
        for (int row = 0; row < B * T; row++) {
            int pos = pos0 + row % T;
            for (int h = 0; h < nH + nKv; h++)
                for (int i = 0; i < hh; i++) {
                    int base = row * stride + h * hd;
                    int ia = base + (half ? i : 2 * i), ib = base + (half ? i + hh : 2 * i + 1);
                    double c = Math.cos(pos * inv[i]), s = Math.sin(pos * inv[i]);
                    ref[ia] = qkv[ia] * c - qkv[ib] * s;
                    ref[ib] = qkv[ia] * s + qkv[ib] * c;
                }
        }
        String fn = half ? "rope_half" : "rope_adjacent";
        RopeStyle style = half ? RopeStyle.HALF : RopeStyle.ADJACENT;
        CUdeviceptr tab = in(ropeTable(inv, pos0 + T), DType.F32);
        CUdeviceptr p = in(qkv, DType.F32);
        CudaOps.rope(dev, style, p, tab, B, T, pos0, CudaDevice.NULL, stride, nH, nKv, hd);
        assertClose(dev.downloadFloats(p, qkv.length), ref, 1e-5, 1e-2, fn);
        // the same positions split between the host argument and device memory (how a decode graph passes them)
        CUdeviceptr q = in(qkv, DType.F32), posDev = ints(new int[] {pos0 - 1});
        CudaOps.rope(dev, style, q, tab, B, T, 1, posDev, stride, nH, nKv, hd);
        assertClose(dev.downloadFloats(q, qkv.length), ref, 1e-5, 1e-2, fn + " with pos_dev");
    }

    /**
     * Causal GQA attention in double: q [B*T][nH*hd]; k, v [B][maxLen][nKv*hd]; query t at pos0 + t sees keys
     * pos0 + t - window &lt; j &lt;= pos0 + t (all earlier keys when window is 0).
     */
    static double[] attentionRef(float[] q, float[] k, float[] v, int B, int T, int pos0, int maxLen, int nH, int nKv, int hd, int window) {
        int qDim = nH * hd, kvDim = nKv * hd;
        double[] out = new double[B * T * qDim];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < nH; h++) {
                    int kvh = h / (nH / nKv), L = pos0 + t + 1, first = window > 0 ? Math.max(0, L - window) : 0;
                    double[] s = new double[L];
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = first; j < L; j++) {
                        double d = 0;
                        for (int e = 0; e < hd; e++)
                            d += (double) q[(b * T + t) * qDim + h * hd + e] * k[(b * maxLen + j) * kvDim + kvh * hd + e];
                        s[j] = d / Math.sqrt(hd);
                        mx = Math.max(mx, s[j]);
                    }
                    double sum = 0;
                    for (int j = first; j < L; j++) sum += (s[j] = Math.exp(s[j] - mx));
                    for (int e = 0; e < hd; e++) {
                        double o = 0;
                        for (int j = first; j < L; j++) o += s[j] / sum * v[(b * maxLen + j) * kvDim + kvh * hd + e];
                        out[(b * T + t) * qDim + h * hd + e] = o;
                    }
                }
        return out;
    }

    @DataProvider
    public Object[][] attentionShapes() {
        // B, T, pos0, nH, nKv, hd, sliding window (0: none)
        return new Object[][] {{2, 37, 0, 4, 2, 48, 0}, {1, 70, 0, 2, 2, 128, 0}, {2, 5, 40, 8, 2, 64, 0}, {1, 3, 1, 2, 1, 256, 0},
            {2, 70, 0, 4, 2, 48, 16}, {2, 9, 40, 8, 2, 64, 21}};
    }

    @Test(dataProvider = "attentionShapes")
    public void attentionPrefill(int B, int T, int pos0, int nH, int nKv, int hd, int window) {
        int maxLen = pos0 + T + 3, qDim = nH * hd, kvDim = nKv * hd;
        float[] q = randn(rnd, B * T * qDim, 1.0), k = randn(rnd, B * maxLen * kvDim, 1.0), v = randn(rnd, B * maxLen * kvDim, 1.0);
        double[] ref = attentionRef(q, k, v, B, T, pos0, maxLen, nH, nKv, hd, window);
        CUdeviceptr qp = in(q, DType.F32), kp = in(k, DType.F32), vp = in(v, DType.F32), o = out(B * T * qDim, DType.F32);
        CudaOps.attentionPrefill(dev, qp, qDim, kp, vp, kvDim, (long) maxLen * kvDim, o, qDim, B, T, pos0, nH, nKv, hd,
                (float) (1 / Math.sqrt(hd)), window);
        assertClose(dev.downloadFloats(o, ref.length), ref, 1e-5, 0.1, "attention_prefill");
    }

    @Test(dataProvider = "attentionShapes")
    public void attentionDecode(int B, int T, int pos0, int nH, int nKv, int hd, int window) {
        int L = pos0 + T, maxLen = L + 2, qDim = nH * hd, kvDim = nKv * hd;
        float[] q = randn(rnd, B * qDim, 1.0), k = randn(rnd, B * maxLen * kvDim, 1.0), v = randn(rnd, B * maxLen * kvDim, 1.0);
        double[] ref = attentionRef(q, k, v, B, 1, L - 1, maxLen, nH, nKv, hd, window);
        CUdeviceptr qp = in(q, DType.F32), kp = in(k, DType.F32), vp = in(v, DType.F32), o = out(B * qDim, DType.F32);
        CudaOps.attentionDecode(dev, qp, qDim, kp, vp, kvDim, (long) maxLen * kvDim, o, qDim, B, L, CudaDevice.NULL, nH, nKv, hd,
                (float) (1 / Math.sqrt(hd)), window);
        assertClose(dev.downloadFloats(o, ref.length), ref, 1e-5, 0.1, "attention_decode");
        CUdeviceptr o2 = out(B * qDim, DType.F32), posDev = ints(new int[] {L - 1});
        CudaOps.attentionDecode(dev, qp, qDim, kp, vp, kvDim, (long) maxLen * kvDim, o2, qDim, B, 1, posDev, nH, nKv, hd,
                (float) (1 / Math.sqrt(hd)), window);
        assertClose(dev.downloadFloats(o2, ref.length), ref, 1e-5, 0.1, "attention_decode with pos_dev");
    }

    /** pos0 = 4 given as (host argument, device value); -1: no device pointer. */
    @DataProvider
    public Object[][] posSplits() { return new Object[][] {{4, -1}, {0, 4}, {3, 1}}; }

    @Test(dataProvider = "posSplits")
    public void kvAppend(int hostPos, int devicePos) {
        int B = 2, T = 3, pos0 = hostPos + Math.max(0, devicePos), maxLen = 9, qDim = 32, kvDim = 16, stride = qDim + 2 * kvDim;
        float[] qkv = randn(rnd, B * T * stride, 1.0);
        CUdeviceptr p = in(qkv, DType.F32), kc = out(B * maxLen * kvDim, DType.F32), vc = out(B * maxLen * kvDim, DType.F32);
        CUdeviceptr posDev = devicePos < 0 ? CudaDevice.NULL : ints(new int[] {devicePos});
        CudaOps.kvAppend(dev, p, stride, qDim, qDim + kvDim, kc, vc, B, T, hostPos, posDev, maxLen, kvDim);
        float[] k = dev.downloadFloats(kc, B * maxLen * kvDim), v = dev.downloadFloats(vc, B * maxLen * kvDim);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < kvDim; i++) {
                    assertEquals(k[(b * maxLen + pos0 + t) * kvDim + i], qkv[(b * T + t) * stride + qDim + i]);
                    assertEquals(v[(b * maxLen + pos0 + t) * kvDim + i], qkv[(b * T + t) * stride + qDim + kvDim + i]);
                }
        assertEquals(Float.isNaN(k[0]), true, "rows outside pos0..pos0+T-1 must be left alone");
    }

    @Test(dataProvider = "dtypes")
    public void swiglu(DType t) {
        int rows = 6, H = 100;
        float[] gu = randn(rnd, rows * 2 * H, 2.0);
        double[] ref = new double[rows * H];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < H; c++) {
                double g = gu[r * 2 * H + c], u = gu[r * 2 * H + H + c];
                ref[r * H + c] = g / (1 + Math.exp(-g)) * u;
            }
        CUdeviceptr g = in(gu, DType.F32), o = out(rows * H, t);
        CudaOps.swiglu(dev, t, g, o, rows, H);
        assertClose(download(dev, o, rows * H, t), ref, tol(t), 1e-3, "swiglu");
    }

    @Test(dataProvider = "dtypes")
    public void biasRelu(DType t) {
        int rows = 6, n = 130;
        float[] h = randn(rnd, rows * n, 2.0), b = randn(rnd, n, 0.5);
        double[] ref = new double[rows * n];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < n; c++) ref[r * n + c] = Math.max(0.0, (double) h[r * n + c] + b[c]);
        CUdeviceptr hp = in(h, DType.F32), bp = in(b, DType.F32), o = out(rows * n, t);
        CudaOps.biasRelu(dev, t, hp, bp, o, rows, n);
        assertClose(download(dev, o, rows * n, t), ref, tol(t), 1e-3, "bias_relu_" + CudaOps.suffix(t));
    }

    @Test(dataProvider = "dtypes")
    public void embedding(DType t) {
        int vocab = 20, dim = 70, n = 11;
        float[] table = round(randn(rnd, vocab * dim, 1.0), t);
        int[] ids = new int[n];
        double[] ref = new double[n * dim];
        for (int i = 0; i < n; i++) {
            ids[i] = rnd.nextInt(vocab);
            for (int d = 0; d < dim; d++) ref[i * dim + d] = table[ids[i] * dim + d];
        }
        CUdeviceptr tp = in(table, t), ip = dev.uploadInts(ids, "ids"), o = out(n * dim, DType.F32);
        CudaOps.embedding(dev, t, ip, tp, o, n, dim);
        assertClose(dev.downloadFloats(o, n * dim), ref, 0, 1, "embedding");
    }

    @Test
    public void convert() {
        int n = 1000;
        float[] x = randn(rnd, n, 3.0);
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            String s = CudaOps.suffix(t);
            CUdeviceptr xp = in(x, DType.F32), o = out(n, t), back = out(n, DType.F32);
            CudaOps.f32To(dev, t, xp, o, n);
            float[] got = download(dev, o, n, t), want = round(x, t);
            for (int i = 0; i < n; i++) assertEquals(got[i], want[i], "f32_to_" + s + " [" + i + "] of " + x[i]);
            CudaOps.toF32(dev, t, o, back, n);
            float[] b = dev.downloadFloats(back, n);
            for (int i = 0; i < n; i++) assertEquals(b[i], want[i], s + "_to_f32");
        }
    }

    @Test
    public void cosine() {
        int rows = 5, dim = 100;
        float[] a = randn(rnd, rows * dim, 1.0), b = randn(rnd, rows * dim, 1.0);
        for (int i = 0; i < dim; i++) b[i] = a[i] * 0.5f + b[i] * 0.1f; // one row close to parallel
        double[] ref = new double[rows];
        for (int r = 0; r < rows; r++) {
            double d = 0, na = 0, nb = 0;
            for (int i = 0; i < dim; i++) {
                d += (double) a[r * dim + i] * b[r * dim + i];
                na += (double) a[r * dim + i] * a[r * dim + i];
                nb += (double) b[r * dim + i] * b[r * dim + i];
            }
            ref[r] = d / Math.sqrt(na * nb);
        }
        CUdeviceptr ap = in(a, DType.F32), bp = in(b, DType.F32), o = poisonedDoubles(dev, rows);
        CudaOps.cosineRows(dev, ap, bp, o, rows, dim);
        assertClose(dev.downloadDoubles(o, rows), ref, 1e-9, 1e-3, "cosine_rows");
    }

    @Test
    public void nll() {
        int rows = 6, vocab = 1000;
        float[] z = randn(rnd, rows * vocab, 3.0);
        int[] target = new int[rows];
        double[] ref = new double[rows];
        for (int r = 0; r < rows; r++) {
            target[r] = r == 2 ? -1 : rnd.nextInt(vocab);
            double mx = Double.NEGATIVE_INFINITY, s = 0;
            for (int i = 0; i < vocab; i++) mx = Math.max(mx, z[r * vocab + i]);
            for (int i = 0; i < vocab; i++) s += Math.exp(z[r * vocab + i] - mx);
            ref[r] = target[r] < 0 ? 0 : mx + Math.log(s) - z[r * vocab + target[r]];
        }
        CUdeviceptr zp = in(z, DType.F32), tp = dev.uploadInts(target, "targets"), o = poisonedDoubles(dev, rows);
        CudaOps.nllRows(dev, zp, tp, o, rows, vocab);
        assertClose(dev.downloadDoubles(o, rows), ref, 1e-5, 1e-3, "nll_rows");
    }

    @DataProvider
    public Object[][] gemms() {
        return new Object[][] {{DType.F32, false}, {DType.BF16, false}, {DType.F16, false}, {DType.F32, true}, {DType.BF16, true}, {DType.F16, true}};
    }

    @Test(dataProvider = "gemms")
    public void gemm(DType t, boolean fallback) {
        int M = 37, N = 70, K = 50;
        float[] a = round(randn(rnd, M * K, 1.0), t), w = round(randn(rnd, N * K, 1.0), t), c0 = randn(rnd, M * N, 1.0);
        double[] ref = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double) a[m * K + k] * w[n * K + k];
                ref[m * N + n] = s + c0[m * N + n];
            }
        CUdeviceptr ap = in(a, t), wp = in(w, t), cp = in(c0, DType.F32);
        if (fallback)
            CudaOps.gemmKernel(dev, t, ap, wp, cp, M, N, K, 1f);
        else
            dev.gemm(t, ap, wp, cp, M, N, K, 1f);
        // inputs are exact in both; only the fp32 accumulation order differs
        assertClose(dev.downloadFloats(cp, M * N), ref, 1e-5, 1.0, "gemm " + t + (fallback ? " fallback" : " cuBLAS"));
    }
}
