package sleb.reproduce;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.testng.annotations.Test;
import sleb.bench.Shapes;
import sleb.model.ModelConfig;
import sleb.zeroshot.Task;
import sleb.zeroshot.ZeroShot;

/**
 * Tables from hand-written cell results of a model with the LLaMA-2-7B shape and name: the published value and the
 * difference beside each figure (differences computed by hand below), acc_norm chosen where the harness reports
 * it, cells not run marked, an untrustworthy speedup flagged.
 */
public class TablesTest {
    private static Path write(Path p, String json) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, json);
        return p;
    }

    @Test
    public void figuresSitBesideThePublishedValues() throws Exception {
        Path out = Files.createTempDirectory("tables");
        Path text = write(out.resolve("data/text.txt"), "some text");
        ReproduceSettings s = new ReproduceSettings();
        Path model = out.resolve("Llama-2-7b-hf");
        s.models = List.of(model);
        s.tokenizers = java.util.Arrays.asList((Path) null);
        s.calib = text;
        s.wikitext2 = text;
        s.c4 = text;
        ModelConfig cfg = Shapes.config("llama2-7b", null);
        PaperValues.PaperModel paper = PaperValues.match("Llama-2-7b-hf", cfg.modelType, cfg.nLayers, cfg.dim);
        assertEquals(paper.name(), "LLaMA-2-7B");
        ReproducePlan plan = new ReproducePlan(s, List.of(new ModelEntry(model, null, "Llama-2-7b-hf", cfg, paper, 4.0)), out);
        for (String t : ReproduceSettings.PAPER_TASKS) plan.tasks.add(new ZeroShot.TaskData(Task.parse(t), text, List.of()));

        Path dir = out.resolve("Llama-2-7b-hf");
        write(dir.resolve("dense/eval.json"), "{\"status\":\"done\",\"results\":[{\"dataset\":\"wikitext2\",\"ppl\":5.5},{\"dataset\":\"c4\",\"ppl\":7.5}]}");
        write(dir.resolve("dense/zeroshot.json"), "{\"status\":\"done\",\"results\":["
                + "{\"task\":\"piqa\",\"acc\":0.7,\"acc_norm\":0.8},{\"task\":\"winogrande\",\"acc\":0.6},"
                + "{\"task\":\"hellaswag\",\"acc\":0.5,\"acc_norm\":0.55},{\"task\":\"arc_easy\",\"acc\":0.7,\"acc_norm\":0.65},"
                + "{\"task\":\"arc_challenge\",\"acc\":0.4,\"acc_norm\":0.45}]}");
        write(dir.resolve("sleb-10/run.json"), "{\"status\":\"selected\",\"removal_order\":[27,25,29,28]}");
        write(dir.resolve("sleb-10/eval.json"), "{\"status\":\"running\",\"results\":[{\"dataset\":\"wikitext2\",\"ppl\":8.0}]}");
        write(dir.resolve("sleb-10/bench-prompt.json"), "{\"speedup\":1.1,\"check\":{\"trustworthy\":true,\"warnings\":[]},\"results\":[]}");
        write(dir.resolve("sleb-10/bench-generate.json"), "{\"speedup\":1.3,\"check\":{\"trustworthy\":false,\"warnings\":[\"load average 3 on 2 cores\"]},\"results\":[]}");

        Tables t = new Tables(plan, out);
        Tables.Figure c4Dense = find(t, "C4 perplexity", "Dense");
        assertEquals(c4Dense.measured(), 7.5, 0.0);
        assertEquals(c4Dense.published(), 7.26, 0.0);
        assertEquals(c4Dense.difference(), 0.24, 1e-12);
        Tables.Figure c4Ten = find(t, "C4 perplexity", "SLEB 10%");
        assertTrue(Double.isNaN(c4Ten.measured()), "eval of SLEB 10% is still running");
        assertEquals(c4Ten.status(), "not run yet");
        assertEquals(c4Ten.published(), 9.34, 0.0);
        assertEquals(c4Ten.removed(), List.of(27, 25, 29, 28));
        // mean of acc_norm (piqa 80, hellaswag 55, arc_easy 65, arc_challenge 45) and acc (winogrande 60) = 61.0
        Tables.Figure mean = find(t, "mean zero-shot accuracy (%)", "Dense");
        assertEquals(mean.measured(), 61.0, 1e-12);
        assertEquals(mean.difference(), 61.0 - 69.00, 1e-12);
        assertEquals(find(t, "prompt latency speedup (1x2048)", "SLEB 10%").measured(), 1.1, 0.0);
        Tables.Figure gen = find(t, "throughput improvement (generation 64x(64+128))", "SLEB 10%");
        assertEquals(gen.status(), "not for publication: load average 3 on 2 cores");
        assertTrue(Double.isNaN(gen.published()), "the paper publishes speed for LLaMA-2-70B only");
        assertEquals(find(t, "throughput improvement (generation 64x(64+128))", "SLEB 20%").status(), "not run yet");

        t.write();
        String md = Files.readString(out.resolve("table1.md"));
        assertTrue(md.contains("| Dense | 7.50 (paper 7.26, +0.24) |"), md);
        assertTrue(md.contains("| SLEB 20% | not run yet (paper 12.32) |"), md);
        String md2 = Files.readString(out.resolve("table2.md"));
        assertTrue(md2.contains("| Dense | 61.00 (paper 69.00, -8.00) |"), md2);
        assertTrue(Files.readString(out.resolve("table1.csv")).contains("table1,C4 perplexity,Llama-2-7b-hf,Dense,0.0,[],7.5,7.26,"));
    }

    private static Tables.Figure find(Tables t, String metric, String method) {
        for (Tables.Figure f : t.figures) if (f.metric().equals(metric) && f.method().equals(method)) return f;
        throw new AssertionError("no figure " + metric + " / " + method);
    }
}
