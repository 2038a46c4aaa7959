package sleb.model;

import static org.testng.Assert.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.CliRun;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;

/**
 * llama2.c's versioned checkpoints, built here from the legacy stories260K.bin by the layout of llama2.c's
 * export.py (karpathy/llama2.c): the legacy file is cut into its tensors with legacy_export's order, and written
 * again with version1_export's header and order. Nothing here uses the loader's own offsets.
 */
public class Llama2cVersionsTest {
    /** legacy_export's tensors in file order, each as raw little-endian fp32 bytes; [0] is the header ints. */
    private static final class Legacy {
        int dim, hidden, layers, heads, kvHeads, vocab, seqLen;
        boolean shared;
        byte[] emb, finalNorm, classifier;
        byte[][] attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3;
    }

    private static Legacy readLegacy(Path bin) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        Legacy g = new Legacy();
        g.dim = b.getInt();
        g.hidden = b.getInt();
        g.layers = b.getInt();
        g.heads = b.getInt();
        g.kvHeads = b.getInt();
        int v = b.getInt();
        g.shared = v > 0;
        g.vocab = Math.abs(v);
        g.seqLen = b.getInt();
        int hd = g.dim / g.heads, kv = g.kvHeads * hd;
        g.emb = take(b, g.vocab * g.dim);
        g.attnNorm = perLayer(b, g.layers, g.dim);
        g.wq = perLayer(b, g.layers, g.dim * g.dim);
        g.wk = perLayer(b, g.layers, kv * g.dim);
        g.wv = perLayer(b, g.layers, kv * g.dim);
        g.wo = perLayer(b, g.layers, g.dim * g.dim);
        g.ffnNorm = perLayer(b, g.layers, g.dim);
        g.w1 = perLayer(b, g.layers, g.hidden * g.dim);
        g.w2 = perLayer(b, g.layers, g.dim * g.hidden);
        g.w3 = perLayer(b, g.layers, g.hidden * g.dim);
        g.finalNorm = take(b, g.dim);
        take(b, g.seqLen * hd); // freqs_cos then freqs_sin, each seq_len x head_dim/2
        g.classifier = g.shared ? null : take(b, g.vocab * g.dim);
        assertEquals(b.remaining(), 0, "the legacy file is read to its end");
        return g;
    }

    private static byte[] take(ByteBuffer b, int floats) {
        byte[] x = new byte[4 * floats];
        b.get(x);
        return x;
    }

    private static byte[][] perLayer(ByteBuffer b, int layers, int floats) {
        byte[][] x = new byte[layers][];
        for (int i = 0; i < layers; i++) x[i] = take(b, floats);
        return x;
    }

    /** version1_export (version 2's header differs by the version and a group size after the flag byte). */
    private static byte[] versioned(Legacy g, int version) {
        List<byte[]> w = new ArrayList<>();
        w.addAll(Arrays.asList(g.attnNorm));
        w.addAll(Arrays.asList(g.ffnNorm));
        w.add(g.finalNorm);
        w.add(g.emb);
        for (byte[][] m : new byte[][][] {g.wq, g.wk, g.wv, g.wo, g.w1, g.w2, g.w3}) w.addAll(Arrays.asList(m));
        if (!g.shared) w.add(g.classifier);
        int total = 256;
        for (byte[] x : w) total += x.length;
        ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x616b3432).putInt(version); // "ak42" as uint32, then the version
        out.putInt(g.dim).putInt(g.hidden).putInt(g.layers).putInt(g.heads).putInt(g.kvHeads).putInt(g.vocab).putInt(g.seqLen);
        out.put((byte) (g.shared ? 1 : 0));
        if (version == 2) out.putInt(64);
        out.position(256); // zero padding
        for (byte[] x : w) out.put(x);
        return out.array();
    }

    private static float[][] logits(Model m, int[][] toks) {
        try (CpuBackend be = new CpuBackend(); LoadedModel lm = be.load(m)) {
            return ModelLogits.of(lm, toks, new int[] {0, 1, 2, 3, 4});
        }
    }

    @Test
    public void version1GivesTheLegacyFilesLogits() throws Exception {
        Path legacy = SharedData.require("models/stories260K/stories260K.bin");
        Legacy g = readLegacy(legacy);
        Path dir = Files.createTempDirectory("llama2c-v1");
        Path v1 = dir.resolve("stories260K-v1.bin");
        Files.write(v1, versioned(g, 1));
        SplittableRandom r = new SplittableRandom(3);
        int[][] toks = new int[2][33];
        for (int[] row : toks) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(g.vocab);
        try (Model a = ModelLoader.load(legacy); Model b = ModelLoader.load(v1)) {
            assertEquals(b.config().describe(), a.config().describe());
            for (String name : a.tensors().keySet()) assertEquals(b.tensor(name).toFloatArray(), a.tensor(name).toFloatArray(), name);
            float[][] la = logits(a, toks), lb = logits(b, toks);
            for (int i = 0; i < la.length; i++) assertEquals(lb[i], la[i], 0f, "row " + i); // same fp32 weights: bit-equal logits
        }
        // one byte short: truncated, said in one line
        byte[] all = Files.readAllBytes(v1);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(all, all.length - 1));
        CliRun.run("info", "--model", cut.toString()).assertErrorLine("truncated version 1", "truncated");
    }

    @Test
    public void version2IsRefusedInOneLine() throws Exception {
        Legacy g = readLegacy(SharedData.require("models/stories260K/stories260K.bin"));
        Path v2 = Files.createTempDirectory("llama2c-v2").resolve("q80.bin");
        Files.write(v2, versioned(g, 2)); // header of version 2; the body's layout does not matter to the refusal
        CliRun run = CliRun.run("info", "--model", v2.toString());
        run.assertErrorLine("version 2", "version 2 (int8");
    }
}
