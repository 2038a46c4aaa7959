package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.LlamaCppTools;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.ModelLogits;
import sleb.backend.cpu.CpuBackend;
import sleb.eval.LlamaCppPerplexity;
import sleb.eval.TextDatasets;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.util.Json;

/**
 * GGUF export end to end, for stories260K (llama2.c and Hugging Face sources), a random model with the LLaMA-2
 * vocabulary and a tiny LLaMA-3-style model (GQA, rope_theta 500000, LLaMA-3 tiktoken vocabulary), each exported with
 * blocks removed in f32, f16 and q8_0:
 * <ul>
 * <li>read back by SLEB-J, the export gives the source's logits with those blocks skipped (bounds per type below);</li>
 * <li>llama.cpp tokenizes text with the embedded vocabulary into the source tokenizer's ids (llama-tokenize);</li>
 * <li>llama-perplexity on the export equals {@code sleb eval --protocol llamacpp --remove ...} on the source: 1e-4
 * relative in f32; in f16 and q8_0 llama.cpp also rounds the activations it multiplies with (to f16, or to Q8_0 blocks:
 * ggml's vec_dot types), which SLEB-J does not, so those figures get the bounds stated with them.</li>
 * </ul>
 * llama.cpp runs with an f32 KV cache (-ctk/-ctv f32), as LlamaCppPerplexityTest explains; each run takes seconds.
 */
public class GgufExportTest {
    private static final String[] OUT_TYPES = {"f32", "f16", "q8_0"};
    /** Relative bounds of llama-perplexity on the export against eval --protocol llamacpp on the source, per outtype. */
    private static final double PPL_F32 = 1e-4, PPL_F16 = 5e-3, PPL_Q8_0 = 2e-2;
    private static final int N_CTX = 128, CHUNKS = 8;

    /** The source model, its tokenizer, and the blocks removed. */
    private static final class Source {
        final Path model, tokenizer;
        final List<Integer> remove;

        Source(Path model, Path tokenizer, List<Integer> remove) {
            this.model = model;
            this.tokenizer = tokenizer;
            this.remove = remove;
        }
    }

    @Test
    public void stories260KLlama2c() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Source s = new Source(bin, bin.resolveSibling("tok512.bin"), List.of(1, 3));
        roundTrip(s, true);
        // the dense f32 export and llama.cpp's own converter output give llama-perplexity the same figure, to its last digit
        Path dir = Files.createTempDirectory("gguf-dense");
        CliRun e = CliRun.run("export", "--model", bin.toString(), "--format", "gguf", "--outtype", "f32", "--out", dir.resolve("d").toString());
        assertEquals(e.code, 0, e.err);
        Path converted = LlamaCppTools.convertLlama2c(bin, s.tokenizer, dir);
        Path text = textSlice(dir);
        assertEquals(llamaPerplexity(dir.resolve("d").resolve(Exporter.GGUF_FILE), text)[0], llamaPerplexity(converted, text)[0]);
    }

    @Test
    public void stories260KHuggingFace() throws Exception {
        Path hf = SharedData.require("models/stories260K-hf");
        roundTrip(new Source(hf, SharedData.require("models/stories260K/tok512.bin"), List.of(1, 3)), false);
    }

    /** Random weights (GQA 4 heads / 2 KV heads, untied) with Meta's LLaMA-2 SentencePiece vocabulary. */
    @Test
    public void randomModelWithTheLlama2Vocabulary() throws Exception {
        Path tok = SharedData.require("models/llama2-tokenizer/tokenizer.model");
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 64, 128, 4, 4, 2, 16, 32000, 512, 1e-5f, 10000.0,
                RopeStyle.HALF, false, false, null, 1, 2);
        roundTrip(new Source(writeHf(c, 11), tok, List.of(1)), false);
    }

    /**
     * LLaMA-3.2 style: tied embeddings, 4 heads sharing 1 KV head, rope_theta 500000, llama3 rope scaling (factor 8,
     * original context 256, so with head_dim 8 one frequency stays, one is smoothed and two are divided by 8: the
     * export's rope_freqs must carry all three cases to llama.cpp), the 128,256-token tiktoken vocabulary.
     */
    @Test
    public void tinyLlama3() throws Exception {
        Path tok = SharedData.require("models/llama3-tokenizer/tokenizer.model");
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 3, 4, 1, 8, 128256, 512, 1e-5f, 500000.0,
                RopeStyle.HALF, true, false, new ModelConfig.Llama3RopeScaling(8.0, 1.0, 4.0, 256), 128000, 128001);
        Path dir = writeHf(c, 12);
        try (Model m = ModelLoader.load(dir)) {
            double[] inv = m.config().ropeInvFreq();
            assertEquals(inv[0], 1.0, 0.0, "wavelength 2 pi < 256/4: unscaled");
            assertEquals(inv[3], Math.pow(500000.0, -0.75) / 8, 1e-18, "wavelength > 256: divided by 8");
            assertTrue(inv[1] < Math.pow(500000.0, -0.25) && inv[1] > Math.pow(500000.0, -0.25) / 8, "wavelength 167 in [64, 256]: smoothed");
        }
        roundTrip(new Source(dir, tok, List.of(1)), false);
    }

    /** A Hugging Face directory (config.json, model.safetensors) with SyntheticModel's seeded random weights. */
    private static Path writeHf(ModelConfig c, long seed) throws Exception {
        Path dir = Files.createTempDirectory("gguf-src-hf");
        try (Model m = SyntheticModel.create(c, DType.F32, seed)) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), m.tensors());
        }
        com.google.gson.JsonObject cfg = Exporter.llamaConfig(c);
        if (c.ropeScaling != null) {
            com.google.gson.JsonObject rs = new com.google.gson.JsonObject();
            rs.addProperty("rope_type", "llama3");
            rs.addProperty("factor", c.ropeScaling.factor);
            rs.addProperty("low_freq_factor", c.ropeScaling.lowFreqFactor);
            rs.addProperty("high_freq_factor", c.ropeScaling.highFreqFactor);
            rs.addProperty("original_max_position_embeddings", c.ropeScaling.originalMaxPositions);
            cfg.add("rope_scaling", rs);
        }
        Files.writeString(dir.resolve("config.json"), Json.GSON.toJson(cfg));
        return dir;
    }

    /** The first 40,000 characters of WikiText-2's test split (over 8 chunks of 128 tokens in every vocabulary here), cut at a line end. */
    private static Path textSlice(Path dir) throws Exception {
        String all = TextDatasets.readText(SharedData.require("data/wikitext-2-raw/wiki.test.raw"));
        Path slice = dir.resolve("wiki-slice.txt");
        Files.writeString(slice, all.substring(0, all.indexOf('\n', 40000) + 1));
        return slice;
    }

    private void roundTrip(Source s, boolean sameLayout) throws Exception {
        Path dir = Files.createTempDirectory("gguf-export");
        Path text = textSlice(dir);
        String removeList = s.remove.isEmpty() ? "" : s.remove.toString().replaceAll("[\\[\\] ]", "");
        Path evalOut = dir.resolve("eval.json");
        CliRun ev = CliRun.run("eval", "--device", "cpu", "--protocol", "llamacpp", "--model", s.model.toString(), "--tokenizer", s.tokenizer.toString(),
                "--data", "wikitext2=" + text, "--seqlen", String.valueOf(N_CTX), "--max-windows", String.valueOf(CHUNKS), "--remove", removeList,
                "--out", evalOut.toString());
        assertEquals(ev.code, 0, ev.err);
        double slebPpl = JsonParser.parseString(Files.readString(evalOut)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject()
                .get("ppl").getAsDouble();

        try (Model src = ModelLoader.load(s.model)) {
            int n = src.config().nLayers;
            int[] kept = BlockSelection.removing(n, s.remove).kept();
            int[][] toks = tokens(src.config().vocabSize);
            float[][] want = logits(src, kept, toks);
            for (String type : OUT_TYPES) {
                Path out = dir.resolve(type);
                CliRun e = CliRun.run("export", "--model", s.model.toString(), "--tokenizer", s.tokenizer.toString(), "--remove", removeList,
                        "--format", "gguf", "--outtype", type, "--out", out.toString());
                assertEquals(e.code, 0, e.err);
                Path gguf = out.resolve(Exporter.GGUF_FILE);
                try (Model back = ModelLoader.load(gguf)) {
                    assertEquals(back.config().nLayers, kept.length);
                    assertEquals(back.config().nKvHeads, src.config().nKvHeads);
                    assertEquals(back.config().ropeTheta, src.config().ropeTheta);
                    assertEquals(back.config().tiedEmbeddings, src.config().tiedEmbeddings);
                    double[] fb = back.config().ropeInvFreq(), fs = src.config().ropeInvFreq();
                    for (int i = 0; i < fs.length; i++) // rope_freqs is stored as F32: 1e-7 relative
                        assertEquals(fb[i], fs[i], 1e-7 * fs[i], "rotary frequency " + i);
                    checkWeights(src, back, kept, type);
                    int[] all = new int[kept.length];
                    for (int i = 0; i < all.length; i++) all[i] = i;
                    float[][] got = logits(back, all, toks);
                    // f32: the same fp32 products; a Hugging Face source's q/k rows come back interleaved, so the
                    // attention scores sum the same products in another order (1e-5 of the largest logit)
                    double bound = type.equals("f32") ? (sameLayout ? 0 : 1e-5) : type.equals("f16") ? 2e-2 : 6e-2;
                    assertLogitsClose(got, want, bound, type);
                }
                if (type.equals("f32")) checkTokenIds(s, gguf, text, dir, src.config().vocabSize);
                double lc = llamaPerplexity(gguf, text)[0];
                double rel = type.equals("f32") ? PPL_F32 : type.equals("f16") ? PPL_F16 : PPL_Q8_0;
                System.out.printf("%s %s: llama-perplexity %.4f, sleb eval --protocol llamacpp %.4f (%.2e relative)%n",
                        s.model.getFileName(), type, lc, slebPpl, Math.abs(lc - slebPpl) / slebPpl);
                assertEquals(lc, slebPpl, rel * slebPpl, type + ": llama-perplexity on the export vs eval on the source, " + rel + " relative");
            }
        }
    }

    /**
     * The stored weights against the source's: f32 exactly (up to the q/k row order), f16 within half an fp16 ulp
     * (2^-11 relative, 2^-25 absolute near zero), q8_0 within half a quantization step d = amax/127 of its block of
     * 32 plus the fp16 rounding of d (127 x 2^-11 d); 1-D tensors are F32 in every type, as convert_hf_to_gguf writes them.
     */
    private static void checkWeights(Model src, Model back, int[] kept, String type) {
        for (int i = 0; i < kept.length; i++) {
            for (String suffix : List.of("mlp.down_proj.weight", "mlp.up_proj.weight", "input_layernorm.weight")) {
                float[] a = src.tensor(Model.layer(kept[i], suffix)).toFloatArray(), b = back.tensor(Model.layer(i, suffix)).toFloatArray();
                int cols = (int) src.tensor(Model.layer(kept[i], suffix)).cols();
                boolean vector = suffix.endsWith("layernorm.weight");
                for (int j = 0; j < a.length; j++) {
                    double tol;
                    if (vector || type.equals("f32")) tol = 0;
                    else if (type.equals("f16") || cols % 32 != 0) tol = Math.max(Math.abs(a[j]) * 0x1p-11, 0x1p-25);
                    else {
                        int start = j / 32 * 32;
                        double amax = 0;
                        for (int k = start; k < start + 32; k++) amax = Math.max(amax, Math.abs(a[k]));
                        double d = amax / 127;
                        tol = d / 2 * (1 + 1e-6) + 127 * d * 0x1p-11;
                    }
                    if (Math.abs(a[j] - b[j]) > tol)
                        throw new AssertionError(type + " " + suffix + " of kept block " + i + " [" + j + "]: " + b[j] + " vs source " + a[j] + ", bound " + tol);
                }
            }
        }
    }

    /** llama-tokenize with the embedded vocabulary gives the source tokenizer's ids on the text (BOS first). */
    private static void checkTokenIds(Source s, Path gguf, Path text, Path dir, int vocab) throws Exception {
        String content = TextDatasets.readText(text);
        content = content.substring(0, content.length() - 1); // what llama-perplexity -f and llama-tokenize -f read: less one final newline
        Path slice = dir.resolve("as-read.txt");
        Files.writeString(slice, content);
        Tokenizer tok = Tokenizers.load(s.tokenizer, vocab);
        int[] ours = LlamaCppPerplexity.tokens(tok, content + "\n", true);
        int[] theirs = LlamaCppTools.tokenize(gguf, slice);
        assertEquals(ours, theirs, "llama-tokenize on the export vs " + tok.describe());
        Tokenizer embedded = Tokenizers.load(gguf, vocab);
        assertEquals(LlamaCppPerplexity.tokens(embedded, content + "\n", true), theirs, "the embedded vocabulary read back by SLEB-J");
    }

    /** llama-perplexity's final PPL and its +/-. */
    private static double[] llamaPerplexity(Path gguf, Path text) throws Exception {
        String out = LlamaCppTools.run(120, "llama-perplexity", "-m", gguf.toString(), "-f", text.toString(), "-c", String.valueOf(N_CTX), "--chunks", String.valueOf(CHUNKS),
                "-t", "2", "-ctk", "f32", "-ctv", "f32");
        String[] f = LlamaCppTools.find(out, "Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)", "final estimate");
        return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])};
    }

    private static int[][] tokens(int vocab) {
        SplittableRandom r = new SplittableRandom(5);
        int[][] t = new int[2][24];
        for (int[] row : t) for (int i = 0; i < row.length; i++) row[i] = r.nextInt(vocab);
        return t;
    }

    private static float[][] logits(Model m, int[] blocks, int[][] toks) {
        try (CpuBackend be = new CpuBackend(); LoadedModel lm = be.load(m)) {
            return ModelLogits.of(lm, toks, blocks);
        }
    }

    /** Every logit within {@code rel} times the largest |logit| of its row. */
    private static void assertLogitsClose(float[][] got, float[][] want, double rel, String what) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double scale = 0;
            for (float v : want[i]) scale = Math.max(scale, Math.abs(v));
            for (int j = 0; j < want[i].length; j++) {
                double d = Math.abs(got[i][j] - want[i][j]);
                worst = Math.max(worst, d / scale);
                if (d > rel * scale) throw new AssertionError(what + " logits row " + i + " col " + j + ": " + got[i][j] + " vs " + want[i][j] + ", bound " + rel * scale);
            }
        }
        System.out.printf("%s logits: worst %.2e of the row's largest |logit| (bound %.0e)%n", what, worst, rel);
    }
}
