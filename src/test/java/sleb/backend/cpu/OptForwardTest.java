package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.backend.ModelLogits;
import sleb.eval.Perplexity;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/**
 * The CPU OPT forward on the shared fixtures (models/opt-tiny: pre-LN, the F16 copy of it, and the 350m-style
 * post-LN one with project_in/out) against {@link OptReferenceForward}, written in float64 in the test.
 */
public class OptForwardTest {
    @DataProvider
    public Object[][] fixtures() {
        return new Object[][] {{"opt-tiny-preln"}, {"opt-tiny-preln-f16"}, {"opt-tiny-postln-proj"}};
    }

    private static Model load(String name) throws Exception {
        return ModelLoader.load(SharedData.require("models/opt-tiny/" + name));
    }

    private static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** All blocks, then each block removed in turn (a removed block passes the residual stream on, positions unchanged). */
    private static int[][] blockLists(int layers) {
        int[][] lists = new int[layers + 1][];
        lists[0] = range(layers);
        for (int r = 0; r < layers; r++) {
            int[] k = new int[layers - 1];
            for (int i = 0, j = 0; i < layers; i++) if (i != r) k[j++] = i;
            lists[r + 1] = k;
        }
        return lists;
    }

    private static int[][] wikiWindows(int seqlen, int count) throws Exception {
        Tokenizer tok = Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 512);
        String head = TextDatasets.readText(SharedData.require("data/wikitext-2-raw/wiki.test.raw")).substring(0, 40000);
        return TokenStream.windows(TokenStream.of(tok, head, false), seqlen, count);
    }

    /** Logits at every position agree with the float64 forward to 1e-5 absolute (logits here are of order 1). */
    @Test(dataProvider = "fixtures")
    public void logitsMatchFloat64ReferenceWithEachBlockRemoved(String name) throws Exception {
        int[][] tokens = wikiWindows(40, 2);
        try (Model m = load(name); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            OptReferenceForward ref = new OptReferenceForward(m);
            for (int[] blocks : blockLists(m.config().nLayers)) {
                float[][] got = ModelLogits.of(lm, tokens, blocks);
                double worst = 0;
                for (int s = 0; s < tokens.length; s++) {
                    double[][] want = ref.logits(tokens[s], blocks);
                    for (int t = 0; t < want.length; t++)
                        for (int v = 0; v < want[t].length; v++) worst = Math.max(worst, Math.abs(got[s * 40 + t][v] - want[t][v]));
                }
                assertTrue(worst < 1e-5, name + " blocks " + Arrays.toString(blocks) + ": max |logit - float64| = " + worst);
            }
        }
    }

    /** WikiText-2 perplexity (tok512, no BOS, windows of 256) through Perplexity.run: 1e-5 relative to float64. */
    @Test(dataProvider = "fixtures")
    public void wikitextPerplexityMatchesFloat64Reference(String name) throws Exception {
        int[][] windows = wikiWindows(256, 3);
        assertEquals(windows.length, 3);
        try (Model m = load(name); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            OptReferenceForward ref = new OptReferenceForward(m);
            int layers = m.config().nLayers;
            for (int[] blocks : new int[][] {range(layers), Arrays.copyOfRange(range(layers), 1, layers)}) {
                double got = Perplexity.run(lm, "wikitext2", windows, blocks, 2, false).ppl;
                double sum = 0;
                for (int[] w : windows) sum += ref.nll(w, blocks);
                double want = Math.exp(sum / (windows.length * 255L));
                assertEquals(got, want, want * 1e-5, name + " blocks " + Arrays.toString(blocks));
            }
        }
    }

    /** The F16 copy really is F16: its weights are the F32 ones rounded, so its logits differ from the F32 model's. */
    @Test
    public void f16CopyHoldsF16Weights() throws Exception {
        try (Model m = load("opt-tiny-preln-f16")) {
            assertEquals(m.embedding().dtype(), DType.F16);
            assertEquals(m.tensor(sleb.model.OptLayout.EMBED_POSITIONS).dtype(), DType.F16);
        }
    }

    /** Prefill then one-token steps with the KV cache give the full forward's logits (1e-5 absolute), with a block skipped. */
    @Test(dataProvider = "fixtures")
    public void decodeMatchesPrefill(String name) throws Exception {
        int[][] tokens = wikiWindows(24, 2);
        try (Model m = load(name); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            int layers = m.config().nLayers;
            int[] blocks = Arrays.copyOfRange(range(layers), 1, layers);
            float[][] full = ModelLogits.of(lm, tokens, blocks);
            try (DecodeSession s = lm.newSession(2, 32, blocks)) {
                int[][] prompt = {Arrays.copyOf(tokens[0], 7), Arrays.copyOf(tokens[1], 7)};
                float[][] last = s.prefill(prompt);
                for (int t = 7; ; t++) {
                    for (int b = 0; b < 2; b++) {
                        float[] want = full[b * 24 + t - 1];
                        for (int v = 0; v < want.length; v++) assertEquals(last[b][v], want[v], 1e-5, name + " seq " + b + " pos " + (t - 1));
                    }
                    if (t == 24) break;
                    last = s.step(new int[] {tokens[0][t], tokens[1][t]});
                }
                assertEquals(s.position(), 24);
            }
        }
    }

    /** Positions past max_position_embeddings have no learned row: refused with a line, not read out of bounds. */
    @Test
    public void positionsPastTheTableAreRefused() throws Exception {
        try (Model m = load("opt-tiny-preln"); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            sleb.util.UsageException e = org.testng.Assert.expectThrows(sleb.util.UsageException.class,
                    () -> lm.embed(new int[][] {{1, 2}}, m.config().maxSeqLen - 1));
            assertTrue(e.getMessage().contains("max_position_embeddings 2048"), e.getMessage());
        }
    }

    static Path fixture(String name) { return SharedData.require("models/opt-tiny/" + name); }
}
