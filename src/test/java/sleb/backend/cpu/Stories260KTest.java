package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.testng.annotations.Test;
import sleb.backend.ModelLogits;
import sleb.SharedData;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

/** The real stories260K checkpoint in its three copies, against the float64 reference and against each other. */
public class Stories260KTest {
    private static int[][] wikiWindows(int count) throws Exception {
        Path tokFile = SharedData.require("models/stories260K/tok512.bin");
        Path text = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Tokenizer tok = Tokenizers.load(tokFile, 512);
        String head = TextDatasets.readText(text).substring(0, 20000);
        return TokenStream.windows(TokenStream.of(tok, head, false), 128, count);
    }

    @Test
    public void nllOfEveryCopyMatchesFloat64Reference() throws Exception {
        int[][] windows = wikiWindows(2);
        int[] blocks = {0, 1, 2, 3, 4};
        for (String copy : new String[] {"stories260K/stories260K.bin", "stories260K-hf", "stories260K-hf-bf16"}) {
            try (Model m = ModelLoader.load(SharedData.require("models/" + copy));
                 CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
                ReferenceForward ref = new ReferenceForward(m);
                double[] got = lm.nll(windows, blocks);
                double gotSum = 0, wantSum = 0;
                for (int w = 0; w < windows.length; w++) {
                    gotSum += got[w];
                    wantSum += ref.nll(windows[w], blocks);
                }
                long predicted = (long) windows.length * 127;
                double pplGot = Math.exp(gotSum / predicted), pplWant = Math.exp(wantSum / predicted);
                // fp32 accumulation against fp64 on the same stored weights: 1e-4 relative on perplexity
                assertEquals(pplGot, pplWant, pplWant * 1e-4, copy);
            }
        }
    }

    @Test
    public void llama2cAndHfCopiesGiveTheSameLogits() throws Exception {
        int[][] windows = wikiWindows(1);
        int[] blocks = {0, 1, 2, 3, 4};
        try (Model a = ModelLoader.load(SharedData.require("models/stories260K/stories260K.bin"));
             Model b = ModelLoader.load(SharedData.require("models/stories260K-hf"));
             CpuBackend be = new CpuBackend(2); LoadedModel la = be.load(a); LoadedModel lb = be.load(b)) {
            float[][] x = ModelLogits.of(la, windows, blocks), y = ModelLogits.of(lb, windows, blocks);
            double num = 0, den = 0;
            for (int i = 0; i < x.length; i++) {
                for (int j = 0; j < x[i].length; j++) {
                    num = Math.max(num, Math.abs(x[i][j] - y[i][j]));
                    den = Math.max(den, Math.abs(x[i][j]));
                }
            }
            // same weights, RoPE pairs permuted with the rows: only summation order differs (1e-5 relative)
            assertTrue(num / den < 1e-5, "relative difference " + num / den);
        }
    }

    @Test
    public void greedyDecodeWritesTheKnownStory() throws Exception {
        // llama2.c's doc/stories260K.md gives this greedy continuation from BOS.
        String expected = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
        Path modelFile = SharedData.require("models/stories260K/stories260K.bin");
        try (Model m = ModelLoader.load(modelFile); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m);
             DecodeSession s = lm.newSession(1, 64, new int[] {0, 1, 2, 3, 4})) {
            Tokenizer tok = Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 512);
            float[] logits = s.prefill(new int[][] {{tok.bosId()}})[0];
            int[] out = new int[50];
            for (int i = 0; i < out.length; i++) {
                int best = 0;
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
                out[i] = best;
                logits = s.step(new int[] {best})[0];
            }
            String text = tok.decode(out);
            assertTrue(text.startsWith(expected), "generated: " + text + " (ids " + Arrays.toString(out) + ")");
        }
    }
}
