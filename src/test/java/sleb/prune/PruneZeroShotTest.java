package sleb.prune;

import static org.testng.Assert.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.backend.LoadedModel;
import sleb.backend.cpu.CpuBackend;
import sleb.cli.Main;
import sleb.model.Model;
import sleb.model.ModelLoader;
import sleb.tokenizer.Tokenizer;
import sleb.tokenizer.Tokenizers;
import sleb.zeroshot.Task;
import sleb.zeroshot.ZeroShot;

/** prune --zeroshot records the accuracy of the dense and the pruned model as `sleb zeroshot` computes it. */
public class PruneZeroShotTest {
    @Test
    public void beforeAndAfterMatchDirectEvaluation() throws Exception {
        Path model = SharedData.require("models/stories260K/stories260K.bin");
        Path calib = SharedData.require("data/wikitext-2-raw/wiki.valid.raw");
        Path zs = SharedData.require("data/zeroshot");
        Path out = Files.createTempDirectory("sleb-pz").resolve("run.json");
        int code = Main.execute("prune", "--device", "cpu", "--model", model.toString(), "--calib", calib.toString(),
                "--calib-sampling", "contiguous", "--nsamples", "4", "--seqlen", "128", "--no-bos", "--num-remove-blocks", "1",
                "--zeroshot", "piqa", "--zeroshot-dir", zs.toString(), "--zeroshot-limit", "12", "--quiet", "--out", out.toString());
        assertEquals(code, 0);
        JsonObject run = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        int removed = run.getAsJsonArray("removal_order").get(0).getAsInt();
        try (Model m = ModelLoader.load(model); CpuBackend be = new CpuBackend(2); LoadedModel lm = be.load(m)) {
            Tokenizer tok = Tokenizers.findBeside(model) != null ? Tokenizers.load(Tokenizers.findBeside(model), 512) : null;
            ZeroShot.TaskData data = ZeroShot.TaskData.load(Task.PIQA, Task.PIQA.defaultFile(zs), 12);
            ZeroShot.Options o = new ZeroShot.Options(false);
            o.progress = false;
            int[] keep = new int[4];
            for (int i = 0, k = 0; i < 5; i++) if (i != removed) keep[k++] = i;
            double dense = ZeroShot.evaluate(lm, tok, data, new int[] {0, 1, 2, 3, 4}, o).acc;
            double pruned = ZeroShot.evaluate(lm, tok, data, keep, o).acc;
            assertEquals(run.getAsJsonObject("zeroshot_dense").getAsJsonObject("piqa").get("acc").getAsDouble(), dense, 0.0);
            assertEquals(run.getAsJsonObject("zeroshot_pruned").getAsJsonObject("piqa").get("acc").getAsDouble(), pruned, 0.0);
            assertEquals(run.getAsJsonObject("zeroshot_pruned").getAsJsonObject("piqa").get("n").getAsInt(), 12);
        }
    }
}
