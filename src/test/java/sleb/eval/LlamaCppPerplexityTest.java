package sleb.eval;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.LlamaCppTools;
import sleb.SharedData;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.util.UsageException;

/**
 * eval --protocol llamacpp against llama-perplexity itself, run live on stories260K converted to GGUF by llama.cpp's own
 * llama2.c converter (f32 weights). llama.cpp is run with an f32 KV cache (-ctk f32 -ctv f32): its default f16 cache
 * rounds keys and values, which moved the figure by 2.5e-5 relative on this model; with f32 the two tools compute the
 * same fp32 forward pass and differ only in summation order.
 */
public class LlamaCppPerplexityTest {
    private static final String STORIES = "models/stories260K/stories260K.bin", TOK = "models/stories260K/tok512.bin";

    @Test
    public void chunksReplaceTheFirstTokenWithBos() {
        int[] ids = {1, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        int[][] c = LlamaCppPerplexity.chunks("t", ids, 4, 0, 1);
        assertEquals(c.length, 2, "11 tokens / n_ctx 4 = 2 chunks, the tail of 3 dropped");
        assertEquals(c[0], new int[] {1, 11, 12, 13});
        assertEquals(c[1], new int[] {1, 15, 16, 17}, "chunk 1 loses its first token (14) to BOS, as llama-perplexity does");
        assertEquals(LlamaCppPerplexity.chunks("t", ids, 4, 1, 1).length, 1, "--max-windows limits the chunks");
        assertEquals(LlamaCppPerplexity.chunks("t", ids, 4, 0, -1)[1], new int[] {14, 15, 16, 17}, "no BOS: tokens as they are");
        assertEquals(LlamaCppPerplexity.first(4), 2);
        assertEquals(LlamaCppPerplexity.first(5), 2);
        try {
            LlamaCppPerplexity.chunks("t", ids, 6, 0, 1);
            throw new AssertionError("11 tokens < 2 x 6 must be refused");
        } catch (UsageException e) {
            assertTrue(e.getMessage().contains("at least 2 x --seqlen = 12 tokens"), e.getMessage());
        }
    }

    @Test
    public void tokensDropOneFinalNewlineAndPutBosFirst() {
        Tokenizer tok = Tokenizers.load(SharedData.require(TOK), 512);
        int[] a = LlamaCppPerplexity.tokens(tok, "Once upon a time\n", true);
        int[] b = TokenStream.of(tok, "Once upon a time", true);
        assertEquals(a, b, "llama.cpp's -f drops one final newline");
        assertEquals(a[0], tok.bosId());
        assertTrue(LlamaCppPerplexity.tokens(tok, "x\n\n", true).length > LlamaCppPerplexity.tokens(tok, "x\n", true).length, "only one newline is dropped");
    }

    @DataProvider
    public Object[][] contexts() {
        return new Object[][] {{64, 40}, {256, 8}};
    }

    /**
     * The tokenizations could differ: llama.cpp tokenizes with its SentencePiece-style merge over the vocabulary the
     * converter copied from tok512.bin (scores, byte tokens &lt;0xNN&gt;, a space prefix), SLEB-J with its llama2.c
     * tokenizer of the same file; tie-breaking between equal-score merges, byte fallback and whitespace handling are
     * where they could part. So the ids are compared first, over the whole file, and the figures only then.
     */
    @Test(dataProvider = "contexts")
    public void agreesWithLlamaPerplexity(int nCtx, int chunks) throws Exception {
        Path model = SharedData.require(STORIES), tokPath = SharedData.require(TOK);
        Path text = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Path dir = Files.createTempDirectory("sleb-llamacpp-ppl");
        Path gguf = LlamaCppTools.convertLlama2c(model, tokPath, dir);

        Tokenizer tok = Tokenizers.load(tokPath, 512);
        String content = TextDatasets.readText(text);
        int[] ours = LlamaCppPerplexity.tokens(tok, content, true);
        Path asRead = dir.resolve("as-read.txt"); // what llama-perplexity -f tokenizes: the file less one final newline
        Files.writeString(asRead, content.substring(0, content.length() - (content.endsWith("\n") ? 1 : 0)));
        int[] theirs = LlamaCppTools.tokenize(gguf, asRead);
        assertEquals(ours.length, theirs.length, "token count of the whole file");
        assertEquals(ours, theirs, "token ids of the whole file");

        String lc = LlamaCppTools.run(300, "llama-perplexity", "-m", gguf.toString(), "-f", text.toString(), "-c", String.valueOf(nCtx),
                "--chunks", String.valueOf(chunks), "-t", "2", "-ctk", "f32", "-ctv", "f32");
        String[] fin = LlamaCppTools.find(lc, "Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)", "final estimate");
        double lcPpl = Double.parseDouble(fin[0]), lcPm = Double.parseDouble(fin[1]);

        Path out = dir.resolve("eval.json");
        CliRun r = CliRun.run("eval", "--device", "cpu", "--protocol", "llamacpp", "--model", model.toString(), "--tokenizer", tokPath.toString(),
                "--data", "wikitext2=" + text, "--seqlen", String.valueOf(nCtx), "--max-windows", String.valueOf(chunks), "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        JsonObject row = JsonParser.parseString(Files.readString(out)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(row.get("chunks").getAsInt(), chunks);
        assertEquals(row.get("scored_tokens").getAsLong(), (long) chunks * (nCtx - nCtx / 2 - 1));
        assertEquals(row.get("tokens").getAsLong(), theirs.length);
        double ppl = row.get("ppl").getAsDouble(), pm = row.get("ppl_stderr").getAsDouble();
        System.out.printf("n_ctx %d, %d chunks: llama-perplexity %s +/- %s, sleb %.6f +/- %.6f%n", nCtx, chunks, fin[0], fin[1], ppl, pm);
        assertEquals(ppl, lcPpl, 1e-4 * lcPpl, "ppl within 1e-4 relative (llama.cpp prints 4 decimals)");
        assertEquals(pm, lcPm, 1e-4 * lcPm + 1e-5, "+/- within 1e-4 relative (llama.cpp prints 5 decimals)");
        assertTrue(r.out.contains(String.format("ppl %.4f +/- ", ppl)), r.out);
    }

    /** --remove: llama-perplexity on the exported (blocks 1 and 3 dropped, then converted) model equals eval --remove on the source. */
    @Test
    public void removedBlocksAgreeWithTheExportedModel() throws Exception {
        Path model = SharedData.require(STORIES), tokPath = SharedData.require(TOK);
        Path text = SharedData.require("data/wikitext-2-raw/wiki.test.raw");
        Path dir = Files.createTempDirectory("sleb-llamacpp-remove");
        Path exported = dir.resolve("pruned");
        CliRun e = CliRun.run("export", "--device", "cpu", "--format", "llama2c", "--model", model.toString(), "--tokenizer", tokPath.toString(),
                "--remove", "1,3", "--out", exported.toString());
        assertEquals(e.code, 0, e.err);
        Path gguf = LlamaCppTools.convertLlama2c(exported.resolve("stories260K.bin"), tokPath, dir);
        String lc = LlamaCppTools.run(300, "llama-perplexity", "-m", gguf.toString(), "-f", text.toString(), "-c", "128",
                "--chunks", "16", "-t", "2", "-ctk", "f32", "-ctv", "f32");
        double lcPpl = Double.parseDouble(LlamaCppTools.find(lc, "Final estimate: PPL = ([0-9.]+)", "final estimate")[0]);

        Path out = dir.resolve("eval.json");
        CliRun r = CliRun.run("eval", "--device", "cpu", "--protocol", "llamacpp", "--model", model.toString(), "--tokenizer", tokPath.toString(),
                "--data", "wikitext2=" + text, "--seqlen", "128", "--max-windows", "16", "--remove", "1,3", "--out", out.toString());
        assertEquals(r.code, 0, r.err);
        double ppl = JsonParser.parseString(Files.readString(out)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject()
                .get("ppl").getAsDouble();
        assertEquals(ppl, lcPpl, 1e-4 * lcPpl, "ppl within 1e-4 relative");
    }

    /** An interrupted llamacpp eval resumes from its chunk count and both running sums, ending with the uninterrupted figures. */
    @Test
    public void resumedRunEqualsUninterrupted() throws Exception {
        String model = SharedData.require(STORIES).toString(), tokPath = SharedData.require(TOK).toString();
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        Path dir = Files.createTempDirectory("sleb-llamacpp-resume");
        Path full = dir.resolve("full.json"), head = dir.resolve("head.json"), cut = dir.resolve("cut.json");
        java.util.function.BiFunction<Integer, Path, String[]> args = (k, out) -> new String[] {"eval", "--device", "cpu", "--protocol", "llamacpp",
                "--model", model, "--tokenizer", tokPath, "--data", "wikitext2=" + text, "--seqlen", "64", "--batch", "1",
                "--max-windows", String.valueOf(k), "--out", out.toString()};
        assertEquals(CliRun.run(args.apply(6, full)).code, 0);
        assertEquals(CliRun.run(args.apply(3, head)).code, 0);
        JsonObject done = JsonParser.parseString(Files.readString(full)).getAsJsonObject();
        JsonObject headRow = JsonParser.parseString(Files.readString(head)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
        JsonObject state = done.deepCopy();
        state.addProperty("status", "running");
        state.add("results", new JsonArray());
        JsonObject partial = new JsonObject();
        partial.addProperty("dataset", "wikitext2");
        partial.addProperty("windows_done", 3);
        partial.addProperty("nll", headRow.get("nll").getAsDouble());
        partial.addProperty("nll2", headRow.get("nll2").getAsDouble());
        state.add("partial", partial);
        Files.writeString(cut, state.toString());

        CliRun r = CliRun.run(CliRun.concat(args.apply(6, cut), "--resume"));
        assertEquals(r.code, 0, r.err);
        JsonObject want = done.getAsJsonArray("results").get(0).getAsJsonObject();
        JsonObject got = JsonParser.parseString(Files.readString(cut)).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(got.get("nll").getAsDouble(), want.get("nll").getAsDouble(), 0.0, "chunks summed in order either way");
        assertEquals(got.get("ppl_stderr").getAsDouble(), want.get("ppl_stderr").getAsDouble(), 0.0, "the NLL² sum resumes too");

        CliRun other = CliRun.run(CliRun.concat(new String[] {"eval", "--device", "cpu", "--model", model, "--tokenizer", tokPath,
                "--data", "wikitext2=" + text, "--seqlen", "64", "--max-windows", "6", "--out", cut.toString()}, "--resume"));
        other.assertErrorLine("resuming a llamacpp run with the paper's protocol", "protocol");
    }

    @Test
    public void badProtocolAndJsonLinesAreRefused() throws Exception {
        String model = SharedData.require(STORIES).toString();
        String text = SharedData.require("data/wikitext-2-raw/wiki.valid.raw").toString();
        CliRun.run("eval", "--device", "cpu", "--protocol", "llama", "--model", model, "--data", "w=" + text)
                .assertErrorLine("unknown protocol", "--protocol must be sleb or llamacpp, got 'llama'");
        Path jsonl = Files.createTempDirectory("sleb-llamacpp-jsonl").resolve("t.jsonl");
        Files.writeString(jsonl, "{\"text\": \"hello\"}\n");
        CliRun.run("eval", "--device", "cpu", "--protocol", "llamacpp", "--model", model, "--data", "w=" + jsonl)
                .assertErrorLine("JSON lines with llamacpp", "reads --data files as plain text");
    }
}
