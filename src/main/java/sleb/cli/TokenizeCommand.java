package sleb.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sleb.eval.TextDatasets;
import sleb.eval.TokenStream;
import sleb.model.Model;
import sleb.tokenizer.Tokenizer;
import sleb.util.AtomicFiles;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize a dataset exactly as eval does and write the ids as little-endian int32 (for checks with other tools).")
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;

    @Option(names = "--data", required = true, paramLabel = "NAME=PATH", description = "dataset, with eval's presets")
    String data;

    @Option(names = "--bos", negatable = true, description = "one BOS at the start (default: as the tokenizer's config says; refused for a tokenizer without BOS)")
    Boolean bos;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output file of int32 ids")
    Path out;

    @Override
    public Integer call() throws Exception {
        TextDatasets.Spec spec = TextDatasets.Spec.parse(data);
        opts.checkInputs(new Preflight()).inputFile("--data " + spec.name, spec.path).outputFile("--out", out).check();
        try (Model model = opts.openModel()) {
            Tokenizer tok = opts.openTokenizer(model);
            int[] ids = TokenStream.of(tok, TextDatasets.load(spec), sleb.tokenizer.Tokenizers.bos(bos, tok));
            ByteBuffer b = ByteBuffer.allocate(4 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int id : ids) b.putInt(id);
            AtomicFiles.write(out, b.array());
            System.out.println(ids.length + " tokens -> " + out);
        }
        return 0;
    }
}
