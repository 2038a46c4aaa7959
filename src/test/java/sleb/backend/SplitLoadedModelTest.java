package sleb.backend;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertThrows;

import java.util.SplittableRandom;
import org.testng.annotations.Test;
import sleb.backend.cpu.CpuBackend;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;

/** The layer split used by `--device cuda:0,1`, exercised with CPU parts: same results as one device. */
public class SplitLoadedModelTest {
    /** A CPU model that, like one GPU of a split, runs only its own blocks and only on activations it made. */
    static final class Part implements LoadedModel {
        final LoadedModel m;
        final int first, last;
        final java.util.Set<Activations> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

        Part(LoadedModel m, int first, int last) {
            this.m = m;
            this.first = first;
            this.last = last;
        }

        private Activations own(Activations a) {
            if (!mine.contains(a)) throw new IllegalStateException("activations of another device");
            return a;
        }

        private Activations made(Activations a) {
            mine.add(a);
            return a;
        }

        @Override public sleb.model.ModelConfig config() { return m.config(); }
        @Override public Backend backend() { return m.backend(); }
        @Override public Activations embed(int[][] t) { return made(m.embed(t)); }
        @Override public Activations embed(int[][] t, int pos0) { return made(m.embed(t, pos0)); }
        @Override public void runBlock(int layer, Activations x) {
            if (layer < first || layer > last) throw new IllegalStateException("block " + layer + " is not on this device");
            m.runBlock(layer, own(x));
        }
        @Override public double[] nll(Activations x, int[][] t) { return m.nll(own(x), t); }
        @Override public float[][] positionNll(Activations x, int[][] t) { return m.positionNll(own(x), t); }
        @Override public float[][] lastLogits(Activations x) { return m.lastLogits(own(x)); }
        @Override public Activations copy(Activations x) { return made(m.copy(own(x))); }
        @Override public Activations fromHost(float[] d, int b, int s) { return made(m.fromHost(d, b, s)); }
        @Override public double[] cosineSum(Activations a, Activations b) { return m.cosineSum(own(a), own(b)); }
        @Override public DecodeSession newSession(int b, int len, int[] blocks) {
            for (int layer : blocks)
                if (layer < first || layer > last) throw new IllegalStateException("block " + layer + " is not on this device");
            DecodeSession s = m.newSession(b, len, blocks);
            return new DecodeSession() {
                @Override public float[][] prefill(int[][] t) { throw new IllegalStateException("a part's session only runs hidden states"); }
                @Override public void appendHidden(Activations x) { s.appendHidden(own(x)); }
                @Override public int position() { return s.position(); }
                @Override public void close() { s.close(); }
            };
        }
        @Override public void close() { m.close(); }
    }

    @Test
    public void layerOrderGivesContiguousBalancedRanges() {
        assertEquals(SplitLoadedModel.layerOrder(5, 2), new int[] {0, 0, 0, 1, 1});
        assertEquals(SplitLoadedModel.layerOrder(80, 2)[39], 0);
        assertEquals(SplitLoadedModel.layerOrder(80, 2)[40], 1);
        assertEquals(SplitLoadedModel.layerOrder(6, 3), new int[] {0, 0, 1, 1, 2, 2});
    }

    @Test
    public void splitAcrossPartsMatchesOneDevice() {
        splitMatchesOneDevice(new ModelConfig("LlamaForCausalLM", "llama", 48, 96, 5, 6, 2, 8, 71, 128, 1e-5f, 10000, RopeStyle.HALF,
                false, false, null, 1, 2));
    }

    /** OPT adds its learned positions at embedding: a split decode session must embed each step at its position. */
    @Test
    public void splitOptAcrossPartsMatchesOneDevice() {
        splitMatchesOneDevice(new ModelConfig("OPTForCausalLM", "opt", 48, 96, 5, 6, 6, 8, 71, 128, 1e-5f, 10000, RopeStyle.HALF,
                true, false, null, 2, 2, null, new sleb.model.OptLayout(false, false, 24, true)));
    }

    private static void splitMatchesOneDevice(ModelConfig c) {
        Model m = SyntheticModel.create(c, DType.BF16, 9);
        SplittableRandom r = new SplittableRandom(4);
        int[][] tokens = new int[2][17];
        for (int[] row : tokens) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(71);
        int[] blocks = {0, 1, 3, 4}; // crosses from part 0 (blocks 0-2) to part 1 (blocks 3-4)
        try (CpuBackend be = new CpuBackend(2); LoadedModel one = be.load(m);
             LoadedModel split = new SplitLoadedModel(be, new LoadedModel[] {new Part(be.load(m), 0, 2), new Part(be.load(m), 3, 4)},
                     SplitLoadedModel.layerOrder(5, 2))) {
            double[] want = one.nll(tokens, blocks), got = split.nll(tokens, blocks);
            // host round trips are exact and the parts run the same kernels: bit-identical
            assertEquals(got, want);
            assertEquals(ModelLogits.of(split, tokens, blocks), ModelLogits.of(one, tokens, blocks));
            try (Activations a = split.embed(tokens); Activations b = one.embed(tokens)) {
                split.runBlock(4, a); // moves to part 1
                one.runBlock(4, b);
                try (Activations a2 = split.embed(tokens); Activations b2 = one.embed(tokens)) {
                    assertEquals(split.cosineSum(a2, a), one.cosineSum(b2, b));
                }
            }
            for (int[] run : new int[][] {blocks, {0, 1, 2}, {3, 4}, {}}) {
                try (DecodeSession s = split.newSession(2, 12, run); DecodeSession t = one.newSession(2, 12, run)) {
                    int[][] prompt = {{1, 2, 3}, {7, 8, 9}};
                    assertEquals(s.prefill(prompt), t.prefill(prompt), "prefill over blocks " + java.util.Arrays.toString(run));
                    for (int step = 0; step < 5; step++) {
                        int[] next = {tokens[0][step], tokens[1][step]};
                        assertEquals(s.step(next), t.step(next), "step " + step + " over blocks " + java.util.Arrays.toString(run));
                    }
                    assertEquals(s.position(), 8);
                    assertThrows(IllegalStateException.class, () -> s.prefill(new int[][] {new int[5], new int[5]}));
                }
            }
        }
    }
}
