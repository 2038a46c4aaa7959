package sleb.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Meta's LLaMA-3 tokenizer.model: tiktoken "base64 rank" lines, byte-level BPE after LLaMA-3's
 * pre-tokenizing regex, plus Meta's 256 special tokens after the ranks. Special-token text inside the
 * input is encoded as ordinary text, as Meta's tokenizer.py does by default.
 */
public final class TiktokenTokenizer implements Tokenizer {
    /** LLaMA-3's split pattern; Java needs UNICODE_CHARACTER_CLASS so that \s is Unicode White_Space as in tiktoken. */
    static final Pattern LLAMA3_SPLIT = Pattern.compile(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private final byte[][] tokenBytes;
    private final String[] specials;
    private final Map<String, Integer> rankOf = new HashMap<>(); // bytes as ISO-8859-1 strings
    private final int[] byteRank = new int[256];
    private final ScoredBpe bpe;
    private final int bos, eos;
    private final String describe;

    public TiktokenTokenizer(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        List<byte[]> toks = new ArrayList<>();
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln).trim();
            if (line.isEmpty()) continue;
            int sp = line.indexOf(' ');
            byte[] b;
            int rank;
            try {
                b = Base64.getDecoder().decode(line.substring(0, Math.max(sp, 0)));
                rank = Integer.parseInt(line.substring(sp + 1).trim());
            } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
                throw new TokenizerException(file + " line " + (ln + 1) + " is not \"base64 rank\"; the file is corrupt or not a tiktoken tokenizer.model");
            }
            if (rank != toks.size())
                throw new TokenizerException(file + " line " + (ln + 1) + " has rank " + rank + ", expected " + toks.size() + " (ranks must be 0,1,2,...)");
            toks.add(b);
        }
        if (toks.size() < 256) throw new TokenizerException(file + " has only " + toks.size() + " ranks; truncated or not a tiktoken tokenizer.model");
        specials = llama3Specials();
        int n = toks.size();
        tokenBytes = toks.toArray(new byte[0][]);
        String[] pieces = new String[n];
        float[] scores = new float[n];
        java.util.Arrays.fill(byteRank, -1);
        for (int i = 0; i < n; i++) {
            pieces[i] = new String(tokenBytes[i], StandardCharsets.ISO_8859_1);
            rankOf.putIfAbsent(pieces[i], i);
            scores[i] = -i; // lowest rank merges first; exact in float below 2^24
            if (tokenBytes[i].length == 1) byteRank[tokenBytes[i][0] & 0xff] = i;
        }
        for (int b = 0; b < 256; b++)
            if (byteRank[b] < 0) throw new TokenizerException(file + " has no token for byte " + b + "; not a byte-level tiktoken file");
        bpe = new ScoredBpe(pieces, scores, rankOf);
        bos = n;
        eos = n + 1;
        describe = "tiktoken BPE " + file.getFileName() + " (" + n + " ranks + " + specials.length + " special)";
    }

    /** Meta's llama3 tokenizer.py special tokens, in id order after the ranks. */
    static String[] llama3Specials() {
        List<String> s = new ArrayList<>(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_4|>", "<|eot_id|>"));
        for (int i = 5; i < 256 - 5; i++) s.add("<|reserved_special_token_" + i + "|>");
        return s.toArray(new String[0]);
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 8);
        Matcher m = LLAMA3_SPLIT.matcher(text);
        while (m.find()) {
            byte[] b = text.substring(m.start(), m.end()).getBytes(StandardCharsets.UTF_8);
            Integer whole = rankOf.get(new String(b, StandardCharsets.ISO_8859_1));
            if (whole != null) {
                out.add(whole);
                continue;
            }
            int[] sym = new int[b.length];
            for (int i = 0; i < b.length; i++) sym[i] = byteRank[b[i] & 0xff];
            out.addAll(bpe.apply(sym));
        }
        return out.toArray();
    }

    private byte[] bytes(int token) {
        if (token >= 0 && token < tokenBytes.length) return tokenBytes[token];
        return new byte[0]; // special tokens print nothing
    }

    @Override
    public String decode(int previous, int token) {
        return new String(bytes(token), StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(bytes(id));
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Name of a special token id, or null. */
    public String special(int id) {
        int k = id - tokenBytes.length;
        return k >= 0 && k < specials.length ? specials[k] : null;
    }

    public int specialId(String name) {
        for (int k = 0; k < specials.length; k++) if (specials[k].equals(name)) return tokenBytes.length + k;
        return -1;
    }

    public int rankCount() { return tokenBytes.length; }

    public byte[] tokenBytes(int rank) { return tokenBytes[rank].clone(); }

    @Override public int vocabSize() { return tokenBytes.length + specials.length; }
    @Override public int bosId() { return bos; }
    @Override public int eosId() { return eos; }
    @Override public boolean addsBosByDefault() { return true; }
    @Override public String describe() { return describe; }
}
