package sleb.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Picks the tokenizer implementation for a file, and finds the tokenizer that sits beside a model. */
public final class Tokenizers {
    private Tokenizers() {}

    private static final Pattern TIKTOKEN_LINE = Pattern.compile("[A-Za-z0-9+/]+=* \\d+\r?");
    private static final Pattern TOK_BIN = Pattern.compile("tok(\\d+)\\.bin");
    private static final int LLAMA2C_MAGIC = 0x616b3432; // "ak42", llama2.c's versioned export

    /**
     * Loads a tokenizer: vocab.json (with merges.txt beside it) is GPT-2 byte-level BPE ({@link ByteLevelBpe}),
     * other *.json is a Hugging Face tokenizer.json, *.bin is llama2.c (which needs the model's vocabulary size),
     * a GGUF file (*.gguf or its magic) is the vocabulary in its metadata ({@link GgufVocab}), anything else
     * (tokenizer.model) is a SentencePiece protobuf or tiktoken text, told apart by content.
     * A directory means the tokenizer found in it by {@link #findBeside}.
     */
    public static Tokenizer load(Path path, int modelVocabSize) {
        if (Files.isDirectory(path)) {
            Path found = findBeside(path);
            if (found == null) throw new TokenizerException("no tokenizer.json, tokenizer.model or vocab.json + merges.txt in " + path);
            path = found;
        }
        if (!Files.isRegularFile(path)) throw new TokenizerException("tokenizer file " + path + " does not exist");
        String name = path.getFileName().toString().toLowerCase();
        Tokenizer t;
        try {
            if (GgufVocab.isGguf(path)) {
                t = GgufVocab.read(path).tokenizer();
            } else if (name.equals("vocab.json")) {
                t = ByteLevelBpe.fromFiles(path);
            } else if (name.endsWith(".json")) {
                t = new HfJsonTokenizer(path);
            } else if (name.endsWith(".bin")) {
                if (modelVocabSize <= 0) throw new TokenizerException(path + " is a llama2.c tokenizer, which needs the model's vocabulary size");
                t = new Llama2cTokenizer(path, modelVocabSize);
            } else if (looksLikeTiktoken(path)) {
                t = new TiktokenTokenizer(path);
            } else {
                t = new SentencePieceTokenizer(path);
            }
        } catch (IOException e) {
            throw new TokenizerException("cannot read tokenizer " + path + ": " + e.getMessage());
        }
        if (modelVocabSize > 0 && t.vocabSize() > modelVocabSize)
            throw new TokenizerException(t.describe() + " has more tokens than the model's vocabulary of " + modelVocabSize + "; wrong tokenizer for this model?");
        return t;
    }

    /**
     * Whether a text starts with BOS: {@code --bos/--no-bos} when given, else the tokenizer's own config. An
     * explicit --bos for a tokenizer without a BOS token is refused, so no id outside the vocabulary is emitted.
     */
    public static boolean bos(Boolean flag, Tokenizer tok) {
        if (flag == null) return tok.addsBosByDefault() && tok.hasBos();
        if (flag && !tok.hasBos())
            throw new sleb.util.UsageException("--bos: " + tok.describe() + " has no BOS token (bos_token is null or absent in its config); run without --bos");
        return flag;
    }

    /** True when the first line is "base64 rank", as in tiktoken files. */
    static boolean looksLikeTiktoken(Path file) throws IOException {
        byte[] head = new byte[256];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        String s = new String(head, 0, n, StandardCharsets.ISO_8859_1);
        int nl = s.indexOf('\n');
        return nl > 0 && TIKTOKEN_LINE.matcher(s.substring(0, nl)).matches();
    }

    /**
     * The tokenizer beside a model, or null. For a Hugging Face directory (or a file in one): tokenizer.json,
     * then tokenizer.model, then a llama2.c tokenizer.bin, then vocab.json when merges.txt is beside it (OPT), or a single tok*.bin (what `sleb export --format hf` copies
     * from a llama2.c source). For a llama2.c checkpoint: tokenizer.bin, then tok{vocab}.bin in the same directory.
     * For a GGUF file: the file itself (its metadata holds the vocabulary).
     */
    public static Path findBeside(Path modelPath) {
        if (GgufVocab.isGguf(modelPath)) return modelPath; // a GGUF model carries its tokenizer
        Path dir = Files.isDirectory(modelPath) ? modelPath : modelPath.toAbsolutePath().getParent();
        if (dir == null) return null;
        boolean llama2c = Files.isRegularFile(modelPath) && modelPath.getFileName().toString().toLowerCase().endsWith(".bin");
        List<String> names = new ArrayList<>();
        if (llama2c) {
            names.add("tokenizer.bin");
            int vocab = llama2cVocab(modelPath);
            if (vocab > 0) names.add("tok" + vocab + ".bin");
        } else {
            names.add("tokenizer.json");
            names.add("tokenizer.model");
            names.add("tokenizer.bin");
            if (Files.isRegularFile(dir.resolve("merges.txt"))) names.add("vocab.json");
        }
        for (String n : names) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        Path gguf = dir.resolve(sleb.model.Exporter.GGUF_FILE);
        if (!llama2c && Files.isDirectory(modelPath) && !Files.exists(dir.resolve("config.json")) && Files.isRegularFile(gguf)) return gguf;
        return onlyTokBin(dir);
    }

    /** The vocabulary size in a llama2.c checkpoint header (legacy or "ak42" versioned), or -1. */
    static int llama2cVocab(Path bin) {
        byte[] h = new byte[36];
        try (InputStream in = Files.newInputStream(bin)) {
            if (in.readNBytes(h, 0, h.length) < h.length) return -1;
        } catch (IOException e) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        int v = b.getInt(0) == LLAMA2C_MAGIC ? b.getInt(28) : b.getInt(20);
        return v == Integer.MIN_VALUE ? -1 : Math.abs(v); // negative means an unshared classifier
    }

    /** When the header gives no match, a single tok*.bin in the directory is taken. */
    private static Path onlyTokBin(Path dir) {
        Path found = null;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "tok*.bin")) {
            for (Path p : ds) {
                if (!TOK_BIN.matcher(p.getFileName().toString()).matches()) continue;
                if (found != null) return null;
                found = p;
            }
        } catch (IOException e) {
            return null;
        }
        return found;
    }
}
