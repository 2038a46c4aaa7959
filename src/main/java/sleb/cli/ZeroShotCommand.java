package sleb.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.model.Model;
import sleb.tokenizer.Tokenizer;
import sleb.util.Format;
import sleb.util.UsageException;
import sleb.zeroshot.LlamaCppHellaswag;
import sleb.zeroshot.Task;
import sleb.zeroshot.ZeroShot;

@Command(name = "zeroshot", mixinStandardHelpOptions = true,
        description = {"Zero-shot multiple-choice accuracy under --protocol:",
                "  lm-eval (default): acc and acc_norm as lm-evaluation-harness v0.4 measures them.",
                "  llamacpp: hellaswag only, scored as `llama-perplexity --hellaswag` does (items in its random order, mean log-probability"
                        + " per ending token past the common prefix; --limit N is its --hellaswag-tasks N)."})
public final class ZeroShotCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--tasks", required = true, split = ",", paramLabel = "LIST",
            description = "piqa, arc_easy, arc_challenge, winogrande, hellaswag, boolq, openbookqa (comma-separated)")
    List<String> tasks;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "directory with piqa/, arc/, winogrande/, hellaswag/, boolq/, openbookqa/ (default: ../shared/data/zeroshot beside the installation, not the working directory)")
    Path dataDir;

    @Option(names = "--task-file", paramLabel = "NAME=PATH", description = "read task NAME from PATH instead of --data-dir")
    List<String> taskFiles = new ArrayList<>();

    @Option(names = "--protocol", paramLabel = "lm-eval|llamacpp", description = "lm-eval (default) or llamacpp (hellaswag only); see above")
    String protocol = "lm-eval";

    @Option(names = "--limit", paramLabel = "N", description = "first N questions of each task (default: all); with --protocol llamacpp, N items in llama.cpp's random order, as its --hellaswag-tasks N (whose default is 400, not all)")
    Integer limit;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "blocks to skip, e.g. 1,3 (0-based)")
    List<Integer> remove = new ArrayList<>();

    @Option(names = "--bos", negatable = true, description = "put BOS before every request (default: as the tokenizer's own config says; refused for a tokenizer without BOS)")
    Boolean bos;

    @Option(names = "--batch", paramLabel = "B", description = "requests per forward pass (default: about 4096 tokens per pass)")
    Integer batch;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Mixin ResultsFileOptions results;

    @Override
    public Integer call() throws Exception {
        results.check();
        NumberChecks.atLeast("--limit", limit, 1);
        NumberChecks.atLeast("--batch", batch, 1);
        int questions = limit == null ? 0 : limit; // 0: all
        boolean llamacpp;
        if (protocol.equals("llamacpp")) llamacpp = true;
        else if (protocol.equals("lm-eval")) llamacpp = false;
        else throw new UsageException("--protocol must be lm-eval or llamacpp, got '" + protocol + "'");
        results.checkOutput(opts.checkInputs(new Preflight())).check();
        Map<Task, Path> files = new LinkedHashMap<>();
        for (String s : taskFiles) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) throw new UsageException("--task-file expects NAME=PATH (e.g. piqa=valid.jsonl), got '" + s + "'");
            Task t = Task.parse(s.substring(0, eq));
            if (files.containsKey(t)) throw new UsageException("--task-file names " + t.id + " twice; give one file per task");
            files.put(t, Paths.get(s.substring(eq + 1)));
        }
        List<Task> list = new ArrayList<>();
        for (String t : tasks) {
            if (t.isBlank()) continue;
            Task task = Task.parse(t);
            if (list.contains(task)) throw new UsageException("task " + task.id + " is listed twice in --tasks");
            list.add(task);
        }
        if (list.isEmpty()) throw new UsageException("--tasks names no task");
        if (llamacpp && !list.equals(List.of(Task.HELLASWAG)))
            throw new UsageException("--protocol llamacpp scores hellaswag only (as llama-perplexity --hellaswag); run the other tasks with --protocol lm-eval");
        // read every task file before loading the model, so a missing one fails fast
        List<ZeroShot.TaskData> data = new ArrayList<>();
        for (Task t : list) {
            Path f = files.containsKey(t) ? files.get(t) : t.defaultFile(dataDir != null ? dataDir : Installation.zeroshotDir());
            if (files.containsKey(t)) new Preflight().inputFile("--task-file " + t.id, f);
            else if (!Files.isRegularFile(f))
                throw new UsageException("task file for " + t.id + " not found: " + f + " (pass --data-dir DIR or --task-file " + t.id + "=PATH)");
            ZeroShot.TaskData d = ZeroShot.TaskData.load(t, f, llamacpp ? 0 : questions); // llamacpp draws its N items from all
            if (!llamacpp && d.deviation() != null) System.err.println("note: " + d.deviation());
            data.add(d);
        }
        try (Model model = opts.openModel(); Backend be = opts.openBackend()) {
            Tokenizer tok = opts.openTokenizer(model);
            int[] keep = BlockFlags.removing("--remove", model.config().nLayers, remove).kept();
            boolean addBos = sleb.tokenizer.Tokenizers.bos(bos, tok);
            System.err.println("model: " + model.config().describe());
            System.err.println("backend: " + be.describe() + "; tokenizer: " + tok.describe() + "; BOS " + (addBos ? "on" : "off")
                    + "; removed blocks " + remove);
            ZeroShot.Options o = new ZeroShot.Options(addBos);
            o.batch = batch == null ? 0 : batch; // 0: auto
            o.progress = !quiet;
            ResultsFile st = new ResultsFile().keyedBy("task");
            st.settings.put("model", opts.model.toAbsolutePath().normalize().toString());
            if (llamacpp) st.settings.put("protocol", "llamacpp"); // absent for lm-eval, as in files written before --protocol
            st.settings.put("removed", new ArrayList<>(remove));
            st.settings.put("bos", addBos);
            st.settings.put("limit", questions);
            List<String> taskFilesUsed = new ArrayList<>();
            for (ZeroShot.TaskData d : data) taskFilesUsed.add(d.task().id + "=" + d.file().toAbsolutePath().normalize());
            st.settings.put("tasks", taskFilesUsed);
            st = results.open(st);
            st.backend = be.describe();
            try (LoadedModel lm = be.load(model)) {
                for (ZeroShot.TaskData d : data) {
                    if (st.row(d.task().id) != null) {
                        System.out.println(d.task().id + ": done in the resumed run, acc " + st.row(d.task().id).get("acc"));
                        continue;
                    }
                    ZeroShot.TaskResult r = llamacpp ? LlamaCppHellaswag.evaluate(lm, tok, d, questions, keep, o)
                            : ZeroShot.evaluate(lm, tok, d, keep, o);
                    System.out.println(line(r));
                    st.finish(r.toMap());
                    results.save(st);
                }
            }
            double[] m = ZeroShot.means(st.results);
            System.out.printf("mean: acc %.4f, acc_norm-or-acc %.4f over %d task(s)%n", m[0], m[1], st.results.size());
            st.mean = new LinkedHashMap<>();
            st.mean.put("acc", m[0]);
            st.mean.put("acc_norm_or_acc", m[1]);
            st.status = "done";
            results.save(st);
        }
        return 0;
    }

    static String line(ZeroShot.TaskResult r) {
        String s = String.format("%s: acc %.4f ± %s", r.task, r.acc, Format.orNa("%.4f", r.accStderr));
        if (!Double.isNaN(r.accNorm)) s += String.format(", acc_norm %.4f ± %s", r.accNorm, Format.orNa("%.4f", r.accNormStderr));
        if ("llamacpp".equals(r.protocol))
            s += String.format(" (llama.cpp protocol: llama-perplexity --hellaswag prints %.8f after item %d)", r.acc * 100, r.n);
        s += String.format(" (n %d, %.1f s%s)", r.n, r.seconds, r.truncated > 0 ? ", " + r.truncated + " requests left-truncated" : "");
        return s;
    }
}
