package sleb.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.model.BlockSelection;
import sleb.model.Model;
import sleb.model.Exporter;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model with the given blocks removed: Hugging Face directory (kept blocks renumbered, config edited, sharded like the source), llama2.c checkpoint, or GGUF file DIR/model.gguf for llama.cpp (tokenizer embedded).")
public final class ExportCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--remove", split = ",", paramLabel = "LIST", description = "original indices of the blocks to drop, e.g. 3,5 (default: none, a plain conversion)")
    List<Integer> remove = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (must not exist or be empty)")
    Path out;

    @Option(names = "--format", defaultValue = "auto", description = "hf, llama2c, gguf, or auto (the source's format) (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--outtype", paramLabel = "T", description = "GGUF tensor type: f32, f16, bf16, q8_0, or auto (each tensor's stored dtype; 1-D tensors are always F32) (default: auto)")
    String outType;

    @Override
    public Integer call() throws Exception {
        Exporter.checkFormat(format, opts.isLlama2c());
        Exporter.checkOutType(Exporter.effectiveFormat(format, opts.model), outType);
        opts.checkInputs(new Preflight()).outputDir("--out", out).check();
        try (Model m = opts.openModel()) {
            BlockSelection sel = BlockFlags.removing("--remove", m.config().nLayers, remove);
            Exporter.export(m, sel, out, format, opts.tokenizerPath(), outType);
            System.out.println("exported " + sel.kept().length + " of " + m.config().nLayers + " blocks (removed " + remove + ") to " + out);
        }
        return 0;
    }
}
