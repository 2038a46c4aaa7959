package sleb.tokenizer;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds LLaMA-2 and LLaMA-3 style tokenizer.json files from the real tokenizer.model files, the way
 * Hugging Face's converters do: merges are every split a+b=c of a vocabulary piece c, ordered by c's
 * priority (SentencePiece score, tiktoken rank).
 */
final class HfFixtures {
    private HfFixtures() {}

    static final String LLAMA3_REGEX = TiktokenTokenizer.LLAMA3_SPLIT.pattern();

    static void llama2(SentencePieceTokenizer spm, Path json) throws IOException {
        int n = spm.vocabSize();
        Map<String, Integer> mergeable = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int t = spm.type(i);
            if (t == SentencePieceTokenizer.NORMAL || t == SentencePieceTokenizer.USER_DEFINED) mergeable.putIfAbsent(spm.piece(i), i);
        }
        List<int[]> merges = new ArrayList<>(); // {left, right, result}
        for (int c = 0; c < n; c++) {
            String p = spm.piece(c);
            if (!mergeable.containsKey(p) || mergeable.get(p) != c) continue;
            for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                Integer a = mergeable.get(p.substring(0, k)), b = mergeable.get(p.substring(k));
                if (a != null && b != null) merges.add(new int[] {a, b, c});
            }
        }
        merges.sort(Comparator.<int[]>comparingDouble(m -> -spm.score(m[2])).thenComparingInt(m -> m[2])
                .thenComparingInt(m -> m[0]).thenComparingInt(m -> m[1]));
        try (JsonWriter w = writer(json)) {
            w.beginObject().name("version").value("1.0");
            w.name("added_tokens").beginArray();
            for (int i = 0; i < n; i++) {
                if (spm.type(i) == SentencePieceTokenizer.CONTROL || spm.type(i) == SentencePieceTokenizer.UNKNOWN) addedToken(w, i, spm.piece(i));
            }
            w.endArray();
            w.name("normalizer").beginObject().name("type").value("Sequence").name("normalizers").beginArray();
            w.beginObject().name("type").value("Prepend").name("prepend").value("\u2581").endObject();
            w.beginObject().name("type").value("Replace").name("pattern").beginObject().name("String").value(" ").endObject()
                    .name("content").value("\u2581").endObject();
            w.endArray().endObject();
            w.name("pre_tokenizer").nullValue();
            w.name("post_processor");
            template(w, spm.piece(spm.bosId()), spm.bosId());
            w.name("decoder").beginObject().name("type").value("Sequence").name("decoders").beginArray();
            w.beginObject().name("type").value("Replace").name("pattern").beginObject().name("String").value("\u2581").endObject()
                    .name("content").value(" ").endObject();
            w.beginObject().name("type").value("ByteFallback").endObject();
            w.beginObject().name("type").value("Fuse").endObject();
            w.beginObject().name("type").value("Strip").name("content").value(" ").name("start").value(1).name("stop").value(0).endObject();
            w.endArray().endObject();
            w.name("model").beginObject().name("type").value("BPE").name("dropout").nullValue().name("unk_token").value(spm.piece(0))
                    .name("continuing_subword_prefix").nullValue().name("end_of_word_suffix").nullValue()
                    .name("fuse_unk").value(true).name("byte_fallback").value(true);
            w.name("vocab").beginObject();
            for (int i = 0; i < n; i++) w.name(spm.piece(i)).value(i);
            w.endObject();
            w.name("merges").beginArray();
            for (int[] m : merges) w.value(spm.piece(m[0]) + " " + spm.piece(m[1]));
            w.endArray().endObject().endObject();
        }
    }

    static void llama3(TiktokenTokenizer tt, Path json) throws IOException {
        int n = tt.rankCount();
        String[] vocab = new String[n];
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < n; i++) {
            vocab[i] = byteLevel(tt.tokenBytes(i));
            rank.put(vocab[i], i);
        }
        try (JsonWriter w = writer(json)) {
            w.beginObject().name("version").value("1.0");
            w.name("added_tokens").beginArray();
            for (int id = n; id < tt.vocabSize(); id++) addedToken(w, id, tt.special(id));
            w.endArray();
            w.name("normalizer").nullValue();
            w.name("pre_tokenizer").beginObject().name("type").value("Sequence").name("pretokenizers").beginArray();
            w.beginObject().name("type").value("Split").name("pattern").beginObject().name("Regex").value(LLAMA3_REGEX).endObject()
                    .name("behavior").value("Isolated").name("invert").value(false).endObject();
            w.beginObject().name("type").value("ByteLevel").name("add_prefix_space").value(false).name("trim_offsets").value(true)
                    .name("use_regex").value(false).endObject();
            w.endArray().endObject();
            w.name("post_processor");
            template(w, tt.special(tt.bosId()), tt.bosId());
            w.name("decoder").beginObject().name("type").value("ByteLevel").name("add_prefix_space").value(true)
                    .name("trim_offsets").value(true).name("use_regex").value(true).endObject();
            w.name("model").beginObject().name("type").value("BPE").name("dropout").nullValue().name("unk_token").nullValue()
                    .name("continuing_subword_prefix").nullValue().name("end_of_word_suffix").nullValue()
                    .name("fuse_unk").value(false).name("byte_fallback").value(false).name("ignore_merges").value(true);
            w.name("vocab").beginObject();
            for (int i = 0; i < n; i++) w.name(vocab[i]).value(i);
            w.endObject();
            w.name("merges").beginArray();
            // Ranks are already in merge priority order; each token's splits are written together, by the ranks of the parts.
            for (int c = 0; c < n; c++) {
                byte[] b = tt.tokenBytes(c);
                if (b.length < 2) continue;
                List<int[]> local = new ArrayList<>();
                for (int k = 1; k < b.length; k++) {
                    Integer l = rank.get(byteLevel(java.util.Arrays.copyOfRange(b, 0, k)));
                    Integer r = rank.get(byteLevel(java.util.Arrays.copyOfRange(b, k, b.length)));
                    if (l != null && r != null) local.add(new int[] {l, r});
                }
                local.sort(Comparator.<int[]>comparingInt(m -> m[0]).thenComparingInt(m -> m[1]));
                for (int[] m : local) w.value(vocab[m[0]] + " " + vocab[m[1]]);
            }
            w.endArray().endObject().endObject();
        }
    }

    /** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 upwards. */
    static String byteLevel(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte x : bytes) sb.append(BYTE_CHAR[x & 0xff]);
        return sb.toString();
    }

    private static final char[] BYTE_CHAR = new char[256];

    static {
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_CHAR[b] = printable ? (char) b : (char) (256 + extra++);
        }
    }

    static void config(Path dir, String bos, String eos, Boolean addBos) throws IOException {
        try (JsonWriter w = writer(dir.resolve("tokenizer_config.json"))) {
            w.beginObject();
            if (addBos != null) w.name("add_bos_token").value(addBos);
            w.name("bos_token").value(bos).name("eos_token").value(eos).endObject();
        }
    }

    private static JsonWriter writer(Path file) throws IOException {
        Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        return new JsonWriter(out);
    }

    private static void addedToken(JsonWriter w, int id, String content) throws IOException {
        w.beginObject().name("id").value(id).name("content").value(content).name("single_word").value(false)
                .name("lstrip").value(false).name("rstrip").value(false).name("normalized").value(false)
                .name("special").value(true).endObject();
    }

    private static void template(JsonWriter w, String bos, int bosId) throws IOException {
        w.beginObject().name("type").value("TemplateProcessing");
        w.name("single").beginArray();
        w.beginObject().name("SpecialToken").beginObject().name("id").value(bos).name("type_id").value(0).endObject().endObject();
        w.beginObject().name("Sequence").beginObject().name("id").value("A").name("type_id").value(0).endObject().endObject();
        w.endArray();
        w.name("pair").beginArray();
        w.beginObject().name("SpecialToken").beginObject().name("id").value(bos).name("type_id").value(0).endObject().endObject();
        w.beginObject().name("Sequence").beginObject().name("id").value("A").name("type_id").value(0).endObject().endObject();
        w.beginObject().name("SpecialToken").beginObject().name("id").value(bos).name("type_id").value(1).endObject().endObject();
        w.beginObject().name("Sequence").beginObject().name("id").value("B").name("type_id").value(1).endObject().endObject();
        w.endArray();
        w.name("special_tokens").beginObject().name(bos).beginObject().name("id").value(bos)
                .name("ids").beginArray().value(bosId).endArray().name("tokens").beginArray().value(bos).endArray()
                .endObject().endObject();
        w.endObject();
    }
}
