package sleb.eval;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertThrows;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.testng.annotations.Test;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;
import sleb.model.Tensor;
import sleb.util.UsageException;

public class EvalTest {
    @Test
    public void uniformModelHasPerplexityEqualToItsVocabulary() {
        // With an all-zero lm_head every logit is 0, so each prediction costs exactly ln(vocab): PPL = vocab.
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 2, 4, 2, 8, 37, 64, 1e-5f, 10000, RopeStyle.HALF,
                false, false, null, 1, 2);
        Model random = SyntheticModel.create(c, DType.F32, 1);
        Map<String, Tensor> t = new LinkedHashMap<>(random.tensors());
        t.put("lm_head.weight", Tensor.ofFloats("lm_head.weight", DType.F32, new long[] {37, 32}, new float[37 * 32]));
        Model m = new Model(c, t, null, Model.SourceFormat.SYNTHETIC, null);
        int[] stream = new int[5 * 16 + 7];
        for (int i = 0; i < stream.length; i++) stream[i] = (i * 7) % 37;
        int[][] windows = TokenStream.windows(stream, 16, 0);
        assertEquals(windows.length, 5);
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            Perplexity.Result r = Perplexity.run(lm, "uniform", windows, new int[] {0, 1}, 2, false);
            assertEquals(r.predicted, 5 * 15);
            assertEquals(r.nll, 5 * 15 * Math.log(37), 1e-3);
            assertEquals(r.ppl, 37.0, 37.0 * 1e-5); // fp32 logits are exact zeros; the bound covers the double sums
        }
    }

    @Test
    public void windowsAreNonOverlappingAndDropTheTail() {
        int[] s = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        int[][] w = TokenStream.windows(s, 4, 0);
        assertEquals(w, new int[][] {{1, 2, 3, 4}, {5, 6, 7, 8}});
        assertEquals(TokenStream.windows(s, 4, 1), new int[][] {{1, 2, 3, 4}});
        assertEquals(TokenStream.windows(s, 12, 0).length, 0);
    }

    @Test
    public void presetsPrepareTextAsTheOfficialLoadersDo() throws Exception {
        Path dir = Files.createTempDirectory("sleb-eval");
        Path ptb = dir.resolve("ptb.txt");
        // ptb_text_only: each line (universal newlines) stripped as Python's str.strip() does, empty lines kept as
        // empty sentences; GPTQ's loader: " ".join(sentences). The expectation is written out by hand.
        Files.writeString(ptb, " a b <unk> \n c d\r\n\t\n e\u00a0\u2003\n  f  ");
        assertEquals(TextDatasets.load(new TextDatasets.Spec("ptb", ptb)), "a b <unk> c d  e f");
        Files.writeString(ptb, " no it was n't black monday \n but while the new york stock exchange did n't fall apart \n");
        assertEquals(TextDatasets.load(new TextDatasets.Spec("ptb", ptb)),
                "no it was n't black monday but while the new york stock exchange did n't fall apart");
        Path raw = dir.resolve("wiki.raw");
        Files.writeString(raw, " \n = T = \n");
        assertEquals(TextDatasets.load(new TextDatasets.Spec("wikitext2", raw)), " \n = T = \n");
        Path c4 = dir.resolve("c4.json.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(c4))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 1105; i++) sb.append("{\"text\": \"d").append(i).append("\", \"url\": \"u\"}\n");
            o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        String joined = TextDatasets.load(new TextDatasets.Spec("c4", c4));
        assertEquals(joined.split(" ").length, 1100);
        assertEquals(joined.substring(0, 9), "d0 d1 d2 ");
        Path jsonl = dir.resolve("mine.jsonl");
        Files.writeString(jsonl, "{\"text\": \"one\"}\n\n{\"text\": \"two\"}\n");
        assertEquals(TextDatasets.load(new TextDatasets.Spec("mine", jsonl)), "one\n\ntwo");
        Files.writeString(jsonl, "{\"text\": \"one\"}\n{oops\n");
        assertThrows(UsageException.class, () -> TextDatasets.load(new TextDatasets.Spec("mine", jsonl)));
        assertThrows(UsageException.class, () -> TextDatasets.Spec.parse("wikitext2"));
        assertThrows(UsageException.class, () -> TextDatasets.load(new TextDatasets.Spec("x", dir.resolve("missing"))));
    }
}
