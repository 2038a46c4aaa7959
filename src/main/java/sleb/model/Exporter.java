package sleb.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import sleb.util.AtomicFiles;
import sleb.util.Json;
import sleb.util.UsageException;

/**
 * Writes a model with some blocks removed: the kept blocks renumbered 0..k-1, tensors in their stored
 * dtypes. {@code hf}: config.json (the source's JSON tree as it was, null values, unknown keys and key
 * order included, except num_hidden_layers and the per-layer list layer_types cut to the kept blocks; written for a llama2.c source,
 * whose q/k rows are then permuted to the rotate-half layout Hugging Face expects), safetensors sharded
 * like the source (same shard file names, a tensor stays in its shard, index json), tokenizer files
 * copied. {@code llama2c}: a legacy llama2.c checkpoint with n_layers edited and the tokenizer .bin copied.
 * {@code gguf}: DIR/model.gguf for llama.cpp with the tokenizer embedded ({@link GgufExporter}, docs/gguf.md).
 * Everything is written into a temporary directory beside DIR and renamed to DIR at the end.
 */
public final class Exporter {
    /** A block's tensor: LLaMA's model.layers.N.* or OPT's model.decoder.layers.N.* (prefix, index, rest). */
    private static final Pattern LAYER = Pattern.compile("(model\\.(?:decoder\\.)?layers\\.)(\\d+)\\.(.+)");
    private static final String[] HF_SIDE_FILES = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "tiktoken.model", "tokenizer.tiktoken", "vocab.json", "merges.txt"};

    private Exporter() {}

    /** The file a {@code gguf} export writes inside its directory. */
    public static final String GGUF_FILE = "model.gguf";

    /** Refuses a --format other than hf, llama2c, gguf or auto. */
    public static void checkFormat(String format) {
        if (!format.equals("auto") && !format.equals("hf") && !format.equals("llama2c") && !format.equals("gguf"))
            throw new UsageException("--format " + format + " is not one of hf, llama2c, gguf, auto");
    }

    /** Refuses a bad --outtype, and one given for a format other than gguf (null: not given). */
    public static void checkOutType(String format, String outType) {
        if (outType == null) return;
        GgufExporter.checkOutType(outType);
        if (!format.equals("gguf")) throw new UsageException("--outtype applies to --format gguf only; add --format gguf or leave --outtype out");
    }

    /** Refuses a bad --format, and llama2c for a source that is not a llama2.c checkpoint, before anything is loaded. */
    public static void checkFormat(String format, boolean llama2cSource) {
        checkFormat(format);
        if (format.equals("llama2c") && !llama2cSource)
            throw new UsageException("--format llama2c needs a llama2.c source model; this one is a Hugging Face model, export it with --format hf");
    }

    /** Writes {@code m} without the blocks {@code blocks} removes into {@code dir} (new or empty) in {@code format} (hf, llama2c, gguf, auto or null: the source's). */
    public static void export(Model m, BlockSelection blocks, Path dir, String format, Path tokenizer) throws IOException {
        export(m, blocks, dir, format, tokenizer, null);
    }

    /**
     * As {@link #export(Model, BlockSelection, Path, String, Path)}; {@code outType} (gguf only, null = auto) picks the
     * GGUF tensor type. A gguf export writes DIR/{@value #GGUF_FILE} with the tokenizer embedded.
     */
    public static void export(Model m, BlockSelection blocks, Path dir, String format, Path tokenizer, String outType) throws IOException {
        if (format != null) checkFormat(format);
        String fmt = format == null || format.equals("auto") ? autoFormat(m) : format;
        checkOutType(fmt, outType);
        if (fmt.equals("gguf")) GgufExporter.checkSource(m.config());
        if (fmt.equals("hf") && m.config().ropeFreqFactors() != null)
            throw new UsageException("this GGUF model scales its rotary frequencies by rope_freqs factors, which config.json cannot express; export it with --format gguf");
        if (fmt.equals("llama2c") && m.format() != Model.SourceFormat.LLAMA2C)
            throw new UsageException("--format llama2c needs a llama2.c source model; this one is " + m.format() + ", export it with --format hf");
        if (blocks.nLayers() != m.config().nLayers)
            throw new IllegalArgumentException("a selection of " + blocks.nLayers() + " blocks for a model of " + m.config().nLayers);
        int[] keep = blocks.kept();
        Path target = dir.toAbsolutePath().normalize();
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) throw new UsageException("export target " + target + " exists and is not a directory");
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) throw new UsageException("export target " + target + " exists and is not empty; remove it or choose another --export/--out");
            }
        }
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path tmp = AtomicFiles.newTempDir(parent, "." + target.getFileName() + ".tmp-");
        try {
            if (fmt.equals("hf")) writeHf(m, keep, tmp, tokenizer);
            else if (fmt.equals("gguf")) writeGguf(m, keep, tmp, tokenizer, outType == null ? "auto" : outType);
            else writeLlama2c(m, keep, tmp, tokenizer);
            if (Files.exists(target)) Files.delete(target); // empty, checked above
            AtomicFiles.move(tmp, target);
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
    }

    /** The format an export with {@code format} (auto: the source's) writes, decided from --model's path before loading. */
    public static String effectiveFormat(String format, Path model) {
        if (!format.equals("auto")) return format;
        return ModelLoader.isGguf(model) ? "gguf" : !Files.isDirectory(model) && !model.getFileName().toString().endsWith(".safetensors")
                && !model.getFileName().toString().equals("config.json") ? "llama2c" : "hf";
    }

    /**
     * Refuses, before a long job, a GGUF export that would fail at its end: a model family llama.cpp's llama architecture
     * cannot express, or no tokenizer that can be embedded.
     */
    public static void checkGgufExport(Model m, Path tokenizer) {
        GgufExporter.checkSource(m.config());
        if (tokenizer == null)
            throw new UsageException("a GGUF export embeds the tokenizer, and none was found beside the model; pass --tokenizer PATH");
        try {
            sleb.tokenizer.GgufVocab.forExport(tokenizer, m.config().vocabSize);
        } catch (sleb.tokenizer.TokenizerException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The source's own format: llama2c, gguf, else hf. */
    private static String autoFormat(Model m) {
        switch (m.format()) {
            case LLAMA2C: return "llama2c";
            case GGUF: return "gguf";
            default: return "hf";
        }
    }

    private static void writeGguf(Model m, int[] keep, Path out, Path tokenizer, String outType) throws IOException {
        if (tokenizer == null)
            throw new UsageException("a GGUF export embeds the tokenizer, and none was found beside the model; pass --tokenizer PATH");
        sleb.tokenizer.GgufVocab vocab;
        try {
            vocab = sleb.tokenizer.GgufVocab.forExport(tokenizer, m.config().vocabSize);
        } catch (sleb.tokenizer.TokenizerException e) {
            throw new UsageException(e.getMessage());
        }
        String types = GgufExporter.write(m, keep, out.resolve(GGUF_FILE), outType, vocab);
        System.out.println("gguf: " + GGUF_FILE + " (" + types + "; tokenizer " + vocab.model + ", " + vocab.tokens.length + " tokens)");
    }

    /** Tensor name in the exported model, or null when it belongs to a removed block. */
    static String rename(String name, int[] newIndex) {
        Matcher mt = LAYER.matcher(name);
        if (!mt.matches()) return name;
        int ni = newIndex[Integer.parseInt(mt.group(2))];
        return ni < 0 ? null : mt.group(1) + ni + "." + mt.group(3);
    }

    private static int[] newIndex(int n, int[] keep) {
        int[] ni = new int[n];
        java.util.Arrays.fill(ni, -1);
        for (int i = 0; i < keep.length; i++) ni[keep[i]] = i;
        return ni;
    }

    private static void writeHf(Model m, int[] keep, Path out, Path tokenizer) throws IOException {
        ModelConfig c = m.config();
        int[] ni = newIndex(c.nLayers, keep);
        boolean permute = c.ropeStyle == RopeStyle.ADJACENT;
        Map<String, String> shardOf = new LinkedHashMap<>();
        Path src = m.source();
        boolean hfSource = m.format() == Model.SourceFormat.HF;
        Path index = hfSource ? src.resolve("model.safetensors.index.json") : null;
        boolean sharded = index != null && Files.isRegularFile(index) && !Files.isRegularFile(src.resolve("model.safetensors"));
        if (sharded) {
            JsonObject wm = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject("weight_map");
            for (Map.Entry<String, JsonElement> e : wm.entrySet()) shardOf.put(e.getKey(), e.getValue().getAsString());
        }
        Map<String, Map<String, Tensor>> shards = new TreeMap<>();
        if (sharded) for (String f : new java.util.TreeSet<>(shardOf.values())) shards.put(f, new LinkedHashMap<>());
        Map<String, String> newWeightMap = new TreeMap<>();
        long total = 0;
        for (Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
            String nn = rename(e.getKey(), ni);
            if (nn == null) continue;
            Tensor t = e.getValue();
            if (permute && isRotaryProjection(e.getKey()))
                t = RopeRows.toRotateHalf(nn, t, c.headDim);
            else if (!nn.equals(e.getKey())) t = renamed(nn, t);
            // a hub OPT checkpoint's index names the stored "decoder.*" (Tensor.name), not the model's "model.decoder.*"
            String file = sharded ? shardOf.getOrDefault(e.getKey(), shardOf.get(e.getValue().name())) : "model.safetensors";
            if (file == null) throw new IllegalStateException("tensor " + e.getKey() + " is not in " + index);
            shards.computeIfAbsent(file, k -> new LinkedHashMap<>()).put(nn, t);
            newWeightMap.put(nn, file);
            total += t.byteSize();
        }
        for (Map.Entry<String, Map<String, Tensor>> s : shards.entrySet()) SafetensorsWriter.write(out.resolve(s.getKey()), s.getValue());
        if (sharded) {
            JsonObject idx = new JsonObject();
            JsonObject meta = new JsonObject();
            meta.addProperty("total_size", total);
            idx.add("metadata", meta);
            JsonObject wm = new JsonObject();
            for (Map.Entry<String, String> e : newWeightMap.entrySet()) wm.addProperty(e.getKey(), e.getValue());
            idx.add("weight_map", wm);
            Files.writeString(out.resolve("model.safetensors.index.json"), Json.GSON.toJson(idx) + "\n");
        }
        JsonObject cfg;
        if (hfSource) {
            cfg = JsonParser.parseString(Files.readString(src.resolve("config.json"), StandardCharsets.UTF_8)).getAsJsonObject();
            JsonElement lt = cfg.get("layer_types");
            if (lt != null && lt.isJsonArray() && lt.getAsJsonArray().size() == c.nLayers) {
                JsonArray a = new JsonArray();
                for (int k : keep) a.add(lt.getAsJsonArray().get(k));
                cfg.add("layer_types", a);
            } else if (lt == null && c.modelType.equals("qwen2")) {
                // Without layer_types, Qwen2 slides on the layers from max_window_layers on (default 28). The kept
                // sliding layers stay a suffix of the kept list, so the export's boundary is the number kept below it.
                int first = HfConfig.intOpt(cfg, "max_window_layers", SlidingWindows.QWEN2_MAX_WINDOW_LAYERS, src.resolve("config.json"));
                int below = 0;
                for (int k : keep) if (k < first) below++;
                cfg.addProperty("max_window_layers", below);
            }
        } else {
            cfg = llamaConfig(c);
        }
        cfg.addProperty("num_hidden_layers", keep.length); // replaces the value in place: key order is kept
        Files.writeString(out.resolve("config.json"), Json.GSON_KEEP_NULLS.toJson(cfg) + "\n");
        if (hfSource) {
            for (String f : HF_SIDE_FILES) if (Files.isRegularFile(src.resolve(f))) copyContent(src.resolve(f), out.resolve(f));
        }
        copyTokenizer(tokenizer, out);
    }

    /** q/k projection weights and biases, whose rows follow the RoPE layout. */
    static boolean isRotaryProjection(String hfName) {
        return hfName.matches(".*self_attn\\.[qk]_proj\\.(weight|bias)");
    }

    /** config.json for a llama2.c source, as Hugging Face's LlamaForCausalLM reads it. */
    public static JsonObject llamaConfig(ModelConfig c) {
        JsonObject o = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add("LlamaForCausalLM");
        o.add("architectures", arch);
        o.addProperty("model_type", "llama");
        o.addProperty("hidden_size", c.dim);
        o.addProperty("intermediate_size", c.hiddenDim);
        o.addProperty("num_hidden_layers", c.nLayers);
        o.addProperty("num_attention_heads", c.nHeads);
        o.addProperty("num_key_value_heads", c.nKvHeads);
        o.addProperty("head_dim", c.headDim);
        o.addProperty("vocab_size", c.vocabSize);
        o.addProperty("max_position_embeddings", c.maxSeqLen);
        o.addProperty("rms_norm_eps", c.normEps);
        o.addProperty("rope_theta", c.ropeTheta);
        o.add("rope_scaling", com.google.gson.JsonNull.INSTANCE);
        o.addProperty("hidden_act", "silu");
        o.addProperty("attention_bias", false);
        o.addProperty("mlp_bias", false);
        o.addProperty("tie_word_embeddings", c.tiedEmbeddings);
        o.addProperty("bos_token_id", c.bosId);
        o.addProperty("eos_token_id", c.eosId);
        o.addProperty("torch_dtype", "float32");
        return o;
    }

    private static Tensor renamed(String name, Tensor t) {
        return new Tensor(name, t.dtype(), t.shape(), new ByteBuffer[] {bytesOf(t)}, t.rows());
    }

    private static ByteBuffer bytesOf(Tensor t) {
        if (t.byteSize() > Integer.MAX_VALUE - 8) return chunkedCopyUnsupported(t);
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream((int) t.byteSize());
        try {
            t.writeTo(java.nio.channels.Channels.newChannel(bos));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return ByteBuffer.wrap(bos.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer chunkedCopyUnsupported(Tensor t) {
        throw new UsageException("tensor " + t.name() + " is over 2 GiB; exporting such tensors is not supported yet");
    }

    private static void writeLlama2c(Model m, int[] keep, Path out, Path tokenizer) throws IOException {
        ModelConfig c = m.config();
        Path src = m.source();
        ByteBuffer h0 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
            in.read(h0, 0);
        }
        if (h0.getInt(0) == Llama2cLayout.MAGIC)
            throw new UsageException(src + " is a versioned llama2.c checkpoint; --format llama2c writes the legacy format from legacy sources only, use --format hf");
        long freqOff = Llama2cLayout.legacyRopeOffset(c);
        long freqBytes = Llama2cLayout.ropeTableBytes(c);
        ByteBuffer freqs = ByteBuffer.allocate((int) freqBytes);
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
            while (freqs.hasRemaining()) if (in.read(freqs, freqOff + freqs.position()) < 0) throw new IOException(src + " ends inside the rotary tables");
        }
        freqs.flip();
        Path file = out.resolve(src.getFileName());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(Llama2cLayout.LEGACY_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(c.dim).putInt(c.hiddenDim).putInt(keep.length).putInt(c.nHeads).putInt(c.nKvHeads)
                    .putInt(c.tiedEmbeddings ? c.vocabSize : -c.vocabSize).putInt(c.maxSeqLen).flip();
            while (h.hasRemaining()) ch.write(h);
            m.embedding().writeTo(ch);
            for (String suffix : Llama2cLayout.LEGACY_LAYER_ORDER) for (int k : keep) m.tensor(Model.layer(k, suffix)).writeTo(ch);
            m.finalNorm().writeTo(ch);
            while (freqs.hasRemaining()) ch.write(freqs);
            if (!c.tiedEmbeddings) m.lmHead().writeTo(ch);
            ch.force(true);
        }
        copyTokenizer(tokenizer, out);
    }

    /**
     * Copies the tokenizer the source was run with (a file, or a directory holding one) into the export, under a
     * name that the lookup beside a model ({@link sleb.tokenizer.Tokenizers#findBeside}) finds, so the export runs
     * without --tokenizer: tokenizer.json, tokenizer.bin / tok{N}.bin (llama2.c), else tokenizer.model.
     */
    static void copyTokenizer(Path tokenizer, Path out) throws IOException {
        if (tokenizer != null && Files.isDirectory(tokenizer)) tokenizer = sleb.tokenizer.Tokenizers.findBeside(tokenizer);
        if (tokenizer == null || !Files.isRegularFile(tokenizer)) return;
        if (ModelLoader.isGguf(tokenizer)) {
            System.err.println("sleb: warning: the tokenizer inside " + tokenizer.getFileName() + " is not written into this export (no file format"
                    + " for it); pass --tokenizer with the model's tokenizer file, or export with --format gguf");
            return;
        }
        if (tokenizer.getFileName().toString().equals("vocab.json")) { // GPT-2 BPE (OPT): the pair, and its config when there is one
            for (String f : new String[] {"vocab.json", "merges.txt", "tokenizer_config.json"}) {
                Path s = tokenizer.resolveSibling(f), d = out.resolve(f);
                if (Files.isRegularFile(s) && !Files.exists(d)) copyContent(s, d);
            }
            return;
        }
        Path dst = out.resolve(tokenizerName(tokenizer));
        if (!Files.exists(dst)) copyContent(tokenizer, dst);
    }

    /** Copies the bytes only: Files.copy(Path, Path) gives the copy the source's mode, so a read-only source gave a 0444 file whatever the umask. */
    private static void copyContent(Path src, Path dst) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(src)) {
            Files.copy(in, dst);
        }
    }

    static String tokenizerName(Path tokenizer) {
        String n = tokenizer.getFileName().toString(), lower = n.toLowerCase(java.util.Locale.ROOT);
        if (lower.endsWith(".json")) return "tokenizer.json";
        if (lower.endsWith(".bin")) return lower.equals("tokenizer.bin") || lower.matches("tok\\d+\\.bin") ? n : "tokenizer.bin";
        return "tokenizer.model";
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            List<Path> all = new ArrayList<>();
            s.forEach(all::add);
            all.sort(Comparator.reverseOrder());
            for (Path x : all) Files.deleteIfExists(x);
        }
    }
}
