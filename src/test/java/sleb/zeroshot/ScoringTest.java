package sleb.zeroshot;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.ModelLoader;
import sleb.model.RopeStyle;
import sleb.model.SyntheticModel;
import sleb.model.Tensor;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;

public class ScoringTest {
    static Tokenizer tok() {
        return Tokenizers.load(SharedData.require("models/stories260K/tok512.bin"), 512);
    }

    @Test
    public void continuationTokensAreTheWholePastTheContext() {
        Tokenizer t = tok();
        // ids checked by hand against tok512.bin's pieces (decoded alongside)
        int[][] p = Scorer.encodePair(t, "Question: Is it red?\nAnswer:", " yes");
        assertEquals(p[1], new int[] {348, 406}); // " y" "es"
        assertEquals(p[0].length, 21);
        assertEquals(p[0][14], 13); // "\n"
        // trailing whitespace of the context moves to the continuation
        int[][] q = Scorer.encodePair(t, "Answer: ", "yes");
        assertEquals(q[0], new int[] {410, 447, 416, 419, 424, 285, 467}); // " " "A" "n" "s" "w" "er" ":"
        assertEquals(q[1], new int[] {348, 406});
        assertEquals(Scorer.encodePair(t, "Answer:", " yes")[1], q[1]);
        // a merge across the boundary: the whole is " s" "at" ..., the context ends in " sa"; the harness slices by count
        int[][] r = Scorer.encodePair(t, "The cat sa", "t down.");
        assertEquals(r[0], new int[] {291, 280, 294, 296});
        assertEquals(r[1], new int[] {294, 279, 327, 416, 426}); // "at" " d" "ow" "n" "."
        // the whole can be shorter than the context: nothing is left to score
        assertEquals(Scorer.encodePair(t, "Once upon a ti", "me")[1].length, 0);
    }

    @Test
    public void encodeAddsBosAndTruncatesFromTheLeft() {
        Tokenizer t = tok();
        Scorer.Encoded e = Scorer.encode(t, "Answer:", " yes", true, 0);
        assertEquals(e.tokens(), new int[] {1, 410, 447, 416, 419, 424, 285, 467, 348, 406});
        assertEquals(e.contStart(), 8);
        assertEquals(Scorer.encode(t, "Answer:", " yes", false, 0).contStart(), 7);
        // an empty context is a lone BOS, the continuation encoded by itself
        Scorer.Encoded empty = Scorer.encode(t, "", " yes", false, 0);
        assertEquals(empty.tokens()[0], 1);
        assertEquals(Arrays.copyOfRange(empty.tokens(), 1, empty.tokens().length), t.encode(" yes"));
        Scorer.Encoded cut = Scorer.encode(t, "Answer:", " yes", true, 4); // the last max_length + 1 = 5 tokens
        assertEquals(cut.tokens(), new int[] {424, 285, 467, 348, 406});
        assertEquals(cut.contStart(), 3);
        assertTrue(cut.truncated());
    }

    @Test
    public void standardErrorIsTheHarnessMeanStderr() {
        assertEquals(ZeroShot.stderr(0.5, 101), 0.05, 1e-12);
        assertEquals(ZeroShot.argmax(new double[] {-2, -1, -1}), 1);
    }

    /** Tokens of one choice built here from the tokenizer alone: BOS, context tokens, the whole's tokens past them. */
    static int[][] pieces(Tokenizer t, String ctx, String cont) {
        int[] c = t.encode(ctx), w = t.encode(ctx + cont);
        int[] all = new int[1 + c.length + w.length - c.length];
        all[0] = t.bosId();
        System.arraycopy(c, 0, all, 1, c.length);
        System.arraycopy(w, c.length, all, 1 + c.length, w.length - c.length);
        return new int[][] {all, {1 + c.length}};
    }

    @Test
    public void batchedScoresEqualUnbatchedSequencesScoredOneByOne() throws Exception {
        Tokenizer t = tok();
        Path piqa = SharedData.require("data/zeroshot/piqa/valid.jsonl");
        List<Item> items = TaskReaders.piqa(piqa).subList(0, 5);
        ZeroShot.TaskData data = new ZeroShot.TaskData(Task.PIQA, piqa, items);
        try (Model m = ModelLoader.load(SharedData.require("models/stories260K/stories260K.bin"));
             CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            for (int[] blocks : new int[][] {{0, 1, 2, 3, 4}, {0, 1, 3, 4}}) {
                // independent: loglik = -(NLL of the whole sequence - NLL of its context part), each unpadded, batch of one
                int hit = 0;
                List<double[]> expected = new ArrayList<>();
                for (Item it : items) {
                    double[] ll = new double[it.size()];
                    for (int c = 0; c < it.size(); c++) {
                        int[][] pc = pieces(t, it.contexts().get(c), it.continuations().get(c));
                        int[] all = pc[0];
                        int start = pc[1][0];
                        double whole = lm.nll(new int[][] {all}, blocks)[0];
                        double ctx = lm.nll(new int[][] {Arrays.copyOf(all, start)}, blocks)[0];
                        ll[c] = -(whole - ctx);
                    }
                    expected.add(ll);
                    if (ZeroShot.argmax(ll) == it.gold()) hit++;
                }
                for (int batch : new int[] {1, 3, 0}) {
                    ZeroShot.Options o = new ZeroShot.Options(true);
                    o.batch = batch;
                    o.progress = false;
                    ZeroShot.TaskResult r = ZeroShot.evaluate(lm, t, data, blocks, o);
                    assertEquals(r.n, 5);
                    assertEquals(r.requests, 10);
                    for (int i = 0; i < items.size(); i++) {
                        for (int c = 0; c < 2; c++) {
                            double a = r.logliks.get(i)[c], b = expected.get(i)[c];
                            assertTrue(Math.abs(a - b) <= 1e-4 * Math.abs(b), "item " + i + " choice " + c + " batch " + batch + ": " + a + " vs " + b);
                        }
                    }
                    assertEquals(r.acc, hit / 5.0, 1e-12, "batch " + batch);
                    assertEquals(r.accStderr, ZeroShot.stderr(hit / 5.0, 5), 1e-12);
                }
            }
        }
    }

    @Test
    public void uniformModelPicksTheChoiceWithFewestTokens() throws Exception {
        Tokenizer t = tok();
        int vocab = 512;
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 32, 64, 2, 4, 2, 8, vocab, 512, 1e-5f, 10000, RopeStyle.HALF,
                false, false, null, 1, 2);
        Model random = SyntheticModel.create(c, DType.F32, 1);
        Map<String, Tensor> tensors = new LinkedHashMap<>(random.tensors());
        tensors.put("lm_head.weight", Tensor.ofFloats("lm_head.weight", DType.F32, new long[] {vocab, 32}, new float[vocab * 32]));
        Model m = new Model(c, tensors, null, Model.SourceFormat.SYNTHETIC, null);
        Path arc = SharedData.require("data/zeroshot/arc/ARC-Easy-Dev.jsonl");
        Path wino = SharedData.require("data/zeroshot/winogrande/dev.jsonl");
        try (CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            for (ZeroShot.TaskData data : List.of(new ZeroShot.TaskData(Task.ARC_EASY, arc, TaskReaders.arc(arc).subList(0, 40)),
                    new ZeroShot.TaskData(Task.WINOGRANDE, wino, TaskReaders.winogrande(wino).subList(0, 40)))) {
                ZeroShot.Options o = new ZeroShot.Options(true);
                o.progress = false;
                ZeroShot.TaskResult r = ZeroShot.evaluate(lm, t, data, new int[] {0, 1}, o);
                int hit = 0;
                for (int i = 0; i < data.items().size(); i++) {
                    Item it = data.items().get(i);
                    int best = 0;
                    int[] len = new int[it.size()];
                    for (int k = 0; k < it.size(); k++) {
                        int[][] pc = pieces(t, it.contexts().get(k), it.continuations().get(k));
                        len[k] = pc[0].length - pc[1][0];
                        if (len[k] < len[best]) best = k;
                        assertEquals(r.logliks.get(i)[k], -len[k] * Math.log(vocab), 1e-3 * Math.max(1, len[k]));
                    }
                    if (best == it.gold()) hit++;
                }
                assertEquals(r.acc, hit / (double) data.items().size(), 1e-12, data.task().id);
            }
        }
    }
    /**
     * Every task's requests at the window edge, against lm-evaluation-harness's rule written here on the full
     * token list: the model reads (context + continuation)[-(max_length+1):][:-1], so a request of L tokens is
     * whole for max_length = L and L - 1, and loses exactly its first token for max_length = L - 2; the
     * continuation keeps its tokens (the scored positions are the last len(continuation) ones either way).
     */
    @Test
    public void truncationFollowsTheHarnessRuleAtTheWindowEdgeForEveryTask() throws Exception {
        Tokenizer t = tok();
        Path dir = java.nio.file.Files.createTempDirectory("zs-edge");
        Path hs = dir.resolve("hellaswag_val.jsonl"); // one line in the rowanz layout (the shared copy is llama.cpp's format)
        java.nio.file.Files.writeString(hs, "{\"activity_label\": \"Baking cookies\", \"ctx_a\": \"A woman puts flour in a bowl.\", "
                + "\"ctx_b\": \"she\", \"endings\": [\"stirs it.\", \"eats the bowl.\", \"sings.\", \"runs away.\"], \"label\": \"0\"}\n");
        Map<Task, Path> files = new LinkedHashMap<>();
        for (Task task : Task.values())
            files.put(task, task == Task.HELLASWAG ? hs : task.defaultFile(SharedData.require("data/zeroshot")));
        for (Map.Entry<Task, Path> f : files.entrySet()) {
            List<Item> items = f.getKey().read(f.getValue()).subList(0, 1);
            Item it = items.get(0);
            for (int c = 0; c < it.size(); c++) {
                for (boolean bos : new boolean[] {true, false}) {
                    String what = f.getKey().id + " choice " + c + " bos " + bos;
                    Scorer.Encoded full = Scorer.encode(t, it.contexts().get(c), it.continuations().get(c), bos, 0);
                    int len = full.tokens().length;
                    for (int maxLen : new int[] {len + 1, len, len - 1, len - 2}) {
                        Scorer.Encoded e = Scorer.encode(t, it.contexts().get(c), it.continuations().get(c), bos, maxLen);
                        int keep = Math.min(len, maxLen + 1); // (ctx + cont)[-(max_length+1):]
                        assertEquals(e.tokens(), Arrays.copyOfRange(full.tokens(), len - keep, len), what + " max_length " + maxLen);
                        assertEquals(e.truncated(), len > maxLen + 1, what + " max_length " + maxLen);
                        assertEquals(e.contLength(), full.contLength(), what + " max_length " + maxLen);
                    }
                }
            }
        }
        // the count the run reports: a model with max_position_embeddings = L - 1 truncates none of exactly L tokens
        Item one = Item.of("Question: is the sky blue?\nAnswer:", List.of("yes", "no"), 0);
        int yes = Scorer.encode(t, one.contexts().get(0), one.continuations().get(0), true, 0).tokens().length;
        int no = Scorer.encode(t, one.contexts().get(1), one.continuations().get(1), true, 0).tokens().length;
        int shorter = Math.min(yes, no), longer = Math.max(yes, no);
        for (int maxLen : new int[] {longer - 1, shorter - 1, shorter - 2}) {
            ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 16, 32, 1, 2, 2, 8, 512, maxLen, 1e-5f, 10000.0, RopeStyle.HALF,
                    true, false, null, 1, 2);
            try (Model m = SyntheticModel.create(c, DType.F32, 3); CpuBackend be = new CpuBackend(1); LoadedModel lm = be.load(m)) {
                ZeroShot.Options o = new ZeroShot.Options(true);
                o.progress = false;
                ZeroShot.TaskResult r = ZeroShot.evaluate(lm, t, new ZeroShot.TaskData(Task.PIQA, null, List.of(one)), new int[] {0}, o);
                int expected = (yes > maxLen + 1 ? 1 : 0) + (no > maxLen + 1 ? 1 : 0);
                assertEquals(r.truncated, expected, "max_length " + maxLen + ", requests of " + yes + " and " + no + " tokens");
            }
        }
    }
}
