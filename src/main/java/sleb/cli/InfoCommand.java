package sleb.cli;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sleb.model.Model;
import sleb.model.ModelConfig;
import sleb.model.Tensor;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Architecture, parameter count, dtypes, blocks and memory needed.")
public final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Override
    public Integer call() throws Exception {
        opts.checkInputs(new Preflight()).check();
        try (Model m = opts.openModel()) {
            ModelConfig c = m.config();
            Map<String, Long> dtypes = new TreeMap<>();
            long params = 0;
            for (Tensor t : m.tensors().values()) {
                dtypes.merge(t.dtype().name(), t.numel(), Long::sum);
                params += t.numel();
            }
            System.out.println("model:        " + m.source() + " (" + m.format() + ")");
            System.out.println("architecture: " + c.describe());
            System.out.printf("parameters:   %,d (%.1f M)%n", params, params / 1e6);
            System.out.println("dtypes:       " + dtypes);
            if (m.format() == Model.SourceFormat.GGUF) System.out.println("gguf:         " + sleb.model.GgufLoader.describeStorage(m.source()));
            System.out.printf("blocks:       %d, %,d parameters each%n", c.nLayers, c.blockParams());
            System.out.printf("weights:      %.1f MiB in their stored dtypes%n", m.weightBytes() / 1048576.0);
            long kvPerToken = 2L * c.nLayers * c.kvDim() * 4;
            System.out.printf("memory:       weights + %.1f KiB fp32 KV cache per token; a %d-token window needs ~%.1f MiB of activations%n",
                    kvPerToken / 1024.0, c.maxSeqLen, (double) c.maxSeqLen * (4L * c.dim + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.hiddenDim) * 4 / 1048576.0);
        }
        return 0;
    }
}
