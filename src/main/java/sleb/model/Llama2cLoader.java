package sleb.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads llama2.c checkpoints as llama2.c's export.py writes them, the legacy format and version 1 (layout:
 * {@link Llama2cLayout}); version 2 (int8 Q8_0) is refused. Weights are memory-mapped and exposed under
 * Hugging Face names; RoPE pairs adjacent dimensions, as run.c does.
 */
public final class Llama2cLoader {
    private Llama2cLoader() {}

    public static Model load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new ModelFormatException("model file " + file + " does not exist");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate(Llama2cLayout.VERSIONED_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            head.flip();
            if (head.remaining() < Llama2cLayout.LEGACY_HEADER_BYTES) throw new ModelFormatException(file + " is too short to be a llama2.c checkpoint (" + size + " bytes)");
            long offset;
            boolean shared, versioned = head.getInt(0) == Llama2cLayout.MAGIC;
            int[] h = new int[7];
            if (versioned) {
                if (head.remaining() < Llama2cLayout.VERSIONED_HEADER_BYTES) throw new ModelFormatException(file + " is too short for a llama2.c version header (" + size + " bytes, the header alone is 256)");
                int version = head.getInt(4);
                if (version == 2)
                    throw new ModelFormatException(file + " is llama2.c format version 2 (int8 Q8_0 weights, export.py --version 2), which is not supported;"
                            + " export the checkpoint with --version 1 (fp32) or 0 (legacy) instead");
                if (version != 1) throw new ModelFormatException(file + " is llama2.c format version " + version + "; only the legacy format and version 1 (fp32) are supported");
                head.position(8);
                for (int i = 0; i < 7; i++) h[i] = head.getInt();
                shared = head.get() != 0;
                offset = Llama2cLayout.VERSIONED_HEADER_BYTES;
            } else {
                for (int i = 0; i < 7; i++) h[i] = head.getInt(4 * i);
                shared = h[5] > 0;
                h[5] = Math.abs(h[5]);
                offset = Llama2cLayout.LEGACY_HEADER_BYTES;
            }
            int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = h[5], seqLen = h[6];
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seqLen <= 0
                    || dim > 1 << 16 || layers > 4096 || vocab > 1 << 22 || dim % heads != 0)
                throw new ModelFormatException(file + " does not have a valid llama2.c header (dim " + dim + ", layers " + layers + ", vocab " + vocab + ")");
            int headDim = dim / heads;
            ModelConfig cfg = new ModelConfig("LlamaForCausalLM", "llama", dim, hidden, layers, heads, kvHeads, headDim, vocab, seqLen,
                    1e-5f, 10000.0, RopeStyle.ADJACENT, shared, false, null, 1, 2);

            Map<String, Tensor> t = new LinkedHashMap<>();
            long[] off = {offset};
            Layout l = (name, shape) -> {
                Tensor x = MappedTensors.map(ch, name, DType.F32, shape, off[0]);
                off[0] += x.byteSize();
                return x;
            };
            long expected = Llama2cLayout.fileBytes(cfg, versioned);
            if (size < expected)
                throw new ModelFormatException(file + " is truncated: " + size + " bytes, the header implies " + expected);
            if (versioned) {
                for (String suffix : Llama2cLayout.V1_LAYER_NORMS) perLayer(t, l, cfg, suffix);
                t.put("model.norm.weight", l.next("model.norm.weight", new long[] {dim}));
                t.put("model.embed_tokens.weight", l.next("model.embed_tokens.weight", new long[] {vocab, dim}));
                for (String suffix : Llama2cLayout.V1_LAYER_MATRICES) perLayer(t, l, cfg, suffix);
            } else {
                t.put("model.embed_tokens.weight", l.next("model.embed_tokens.weight", new long[] {vocab, dim}));
                for (String suffix : Llama2cLayout.LEGACY_LAYER_ORDER) perLayer(t, l, cfg, suffix);
                t.put("model.norm.weight", l.next("model.norm.weight", new long[] {dim}));
                off[0] += Llama2cLayout.ropeTableBytes(cfg); // recomputed, not read
            }
            if (!shared) t.put("lm_head.weight", l.next("lm_head.weight", new long[] {vocab, dim}));
            return new Model(cfg, t, file, Model.SourceFormat.LLAMA2C, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private interface Layout {
        Tensor next(String name, long[] shape) throws IOException;
    }

    private static void perLayer(Map<String, Tensor> t, Layout l, ModelConfig c, String suffix) throws IOException {
        for (int i = 0; i < c.nLayers; i++) {
            String name = Model.layer(i, suffix);
            t.put(name, l.next(name, Llama2cLayout.layerShape(suffix, c)));
        }
    }
}
