package sleb.zeroshot;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import sleb.util.UsageException;

/**
 * Readers for the task files as their authors publish them, building prompts exactly as
 * lm-evaluation-harness v0.4's task configs do (piqa.yaml, arc_easy.yaml, winogrande/default.yaml with
 * preprocess_winogrande.py, hellaswag.yaml with utils.py, super_glue/boolq/default.yaml, openbookqa.yaml).
 */
public final class TaskReaders {
    private TaskReaders() {}

    /** A JSON object of one line, with where it came from for error messages. */
    record Row(JsonObject obj, Path file, int line) {
        String where() { return file + ":" + line; }

        JsonElement need(String field) {
            JsonElement e = obj.get(field);
            if (e == null || e.isJsonNull()) throw new UsageException(where() + ": missing field \"" + field + "\"");
            return e;
        }

        String str(String field) {
            JsonElement e = need(field);
            if (!e.isJsonPrimitive()) throw new UsageException(where() + ": field \"" + field + "\" is not a string");
            return e.getAsString();
        }

        JsonObject object(String field) {
            JsonElement e = need(field);
            if (!e.isJsonObject()) throw new UsageException(where() + ": field \"" + field + "\" is not an object");
            return e.getAsJsonObject();
        }
    }

    static List<Row> jsonl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new UsageException("task file " + file + " does not exist");
        List<Row> rows = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            int line = 0;
            while ((s = r.readLine()) != null) {
                line++;
                if (s.isBlank()) continue;
                JsonElement e;
                try {
                    e = JsonParser.parseString(s);
                } catch (RuntimeException ex) {
                    throw new UsageException(file + ":" + line + ": not a JSON line; task files are .jsonl, one JSON object per line (see docs/zeroshot.md for each task's layout)");
                }
                if (!e.isJsonObject()) throw new UsageException(file + ":" + line + ": expected a JSON object");
                rows.add(new Row(e.getAsJsonObject(), file, line));
            }
        }
        if (rows.isEmpty()) throw new UsageException("task file " + file + " holds no questions");
        return rows;
    }

    static List<String> labelLines(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!s.isBlank()) out.add(s.strip());
        return out;
    }

    /** valid.jsonl → valid-labels.lst, as the PIQA and WinoGrande releases name them. */
    static Path labelsBeside(Path jsonl) {
        String n = jsonl.getFileName().toString();
        String base = n.endsWith(".jsonl") ? n.substring(0, n.length() - 6) : n;
        return jsonl.resolveSibling(base + "-labels.lst");
    }

    /** piqa: "Question: {goal}\nAnswer:", choices [sol1, sol2]; gold from a "label" field or the -labels.lst file beside. */
    public static List<Item> piqa(Path file) throws IOException {
        List<Row> rows = jsonl(file);
        List<String> labels = null;
        if (!rows.get(0).obj().has("label")) {
            Path lf = labelsBeside(file);
            if (!Files.isRegularFile(lf)) throw new UsageException("piqa: " + file + " has no \"label\" fields and the labels file " + lf + " does not exist");
            labels = labelLines(lf);
            if (labels.size() != rows.size())
                throw new UsageException("piqa: " + lf + " has " + labels.size() + " labels for " + rows.size() + " questions");
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String label = labels != null ? labels.get(i) : r.str("label");
            int gold = parseIndex(label, 2, 0, r.where());
            items.add(Item.of("Question: " + r.str("goal") + "\nAnswer:", List.of(r.str("sol1"), r.str("sol2")), gold));
        }
        return items;
    }

    /** ARC (AI2 jsonl): "Question: {stem}\nAnswer:", choices the texts, gold the index of answerKey among the labels. */
    public static List<Item> arc(Path file) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Row r : jsonl(file)) {
            JsonObject q = r.object("question");
            Row qr = new Row(q, r.file(), r.line());
            List<String> labels = new ArrayList<>();
            List<String> texts = choiceTexts(qr, labels);
            items.add(Item.of("Question: " + qr.str("stem") + "\nAnswer:", texts, goldOf(qr, labels, r.str("answerKey"))));
        }
        return items;
    }

    /** openbookqa: the question stem as it is, choices the texts, gold the index of answerKey (left-stripped). */
    public static List<Item> openbookqa(Path file) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Row r : jsonl(file)) {
            Row qr = r.obj().has("question_stem") ? r : new Row(r.object("question"), r.file(), r.line());
            String stem = qr.obj().has("question_stem") ? qr.str("question_stem") : qr.str("stem");
            Row cr = qr.obj().has("choices") ? qr : r;
            List<String> labels = new ArrayList<>();
            List<String> texts = choiceTexts(cr, labels);
            items.add(Item.of(stem, texts, goldOf(cr, labels, r.str("answerKey").stripLeading())));
        }
        return items;
    }

    /** Choice texts in file order; fills labels. Accepts AI2's [{text,label}] and HF's {text:[],label:[]}. */
    private static List<String> choiceTexts(Row r, List<String> labels) {
        JsonElement c = r.need("choices");
        List<String> texts = new ArrayList<>();
        if (c.isJsonArray()) {
            for (JsonElement e : c.getAsJsonArray()) {
                Row cr = new Row(e.getAsJsonObject(), r.file(), r.line());
                texts.add(cr.str("text"));
                labels.add(cr.str("label"));
            }
        } else if (c.isJsonObject()) {
            Row cr = new Row(c.getAsJsonObject(), r.file(), r.line());
            for (JsonElement e : cr.need("text").getAsJsonArray()) texts.add(e.getAsString());
            for (JsonElement e : cr.need("label").getAsJsonArray()) labels.add(e.getAsString());
        } else {
            throw new UsageException(r.where() + ": \"choices\" is neither a list nor an object");
        }
        if (texts.size() < 2 || texts.size() != labels.size()) throw new UsageException(r.where() + ": malformed \"choices\"");
        return texts;
    }

    private static int goldOf(Row r, List<String> labels, String answerKey) {
        int g = labels.indexOf(answerKey);
        if (g < 0) throw new UsageException(r.where() + ": answerKey \"" + answerKey + "\" is not among the choice labels " + labels);
        return g;
    }

    /**
     * winogrande, partial evaluation (Trinh &amp; Le 2018) as preprocess_winogrande.py: for option k the context is
     * the sentence up to "_" with the option in its place, and the continuation, shared by both, is " " + the rest
     * of the sentence after "_", stripped. Gold from "answer" ("1"/"2"), else from the -labels.lst file beside.
     */
    public static List<Item> winogrande(Path file) throws IOException {
        List<Row> rows = jsonl(file);
        List<String> labels = null;
        JsonElement a0 = rows.get(0).obj().get("answer");
        if (a0 == null || a0.isJsonNull() || a0.getAsString().isEmpty()) {
            Path lf = labelsBeside(file);
            if (!Files.isRegularFile(lf)) throw new UsageException("winogrande: " + file + " has no \"answer\" fields and the labels file " + lf + " does not exist");
            labels = labelLines(lf);
            if (labels.size() != rows.size())
                throw new UsageException("winogrande: " + lf + " has " + labels.size() + " labels for " + rows.size() + " questions");
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String sentence = r.str("sentence");
            int idx = sentence.indexOf('_');
            if (idx < 0) throw new UsageException(r.where() + ": sentence has no \"_\" blank");
            String target = sentence.substring(idx + 1).strip();
            List<String> ctx = List.of(sentence.substring(0, idx) + r.str("option1"), sentence.substring(0, idx) + r.str("option2"));
            String cont = ZeroShot.TARGET_DELIMITER + target;
            int gold = parseIndex(labels != null ? labels.get(i) : r.str("answer"), 2, 1, r.where());
            items.add(new Item(ctx, List.of(cont, cont), ctx, gold));
        }
        return items;
    }

    /** boolq (SuperGLUE layout): "{passage}\nQuestion: {question}?\nAnswer:", choices ["no", "yes"]. */
    public static List<Item> boolq(Path file) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Row r : jsonl(file)) {
            JsonElement l = r.obj().has("label") ? r.need("label") : r.need("answer");
            boolean yes;
            String s = l.getAsString().strip().toLowerCase(java.util.Locale.ROOT);
            if (s.equals("true") || s.equals("1")) yes = true;
            else if (s.equals("false") || s.equals("0")) yes = false;
            else throw new UsageException(r.where() + ": boolq label \"" + l + "\" is not true/false");
            items.add(Item.of(r.str("passage") + "\nQuestion: " + r.str("question") + "?\nAnswer:", List.of("no", "yes"), yes ? 1 : 0));
        }
        return items;
    }

    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    /** hellaswag/utils.py preprocess: strip, " [title]" → ". ", drop [bracketed] artefacts, "  " → " ". */
    public static String hellaswagPreprocess(String text) {
        String t = text.strip();
        t = t.replace(" [title]", ". ");
        t = BRACKETS.matcher(t).replaceAll("");
        t = t.replace("  ", " ");
        return t;
    }

    /** Python's str.capitalize: first character upper case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(n).toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * What the lm-eval protocol cannot do on llama.cpp's six-line HellaSwag file: said once on stderr and kept in the
     * results.
     */
    public static final String HELLASWAG_SIX_LINE_DEVIATION = "hellaswag: llama.cpp's six-line file holds ctx = ctx_a + \" \" + ctx_b"
            + " already joined, so the harness's ctx_b.capitalize() is not applied (the query is the file's first line,"
            + " activity_label + \": \" + ctx, as it is); the harness's preprocess ([title] to \". \", other [..] removed,"
            + " double spaces collapsed, stripped) was applied by the extraction and is not re-applied; prompt, \" \" + ending"
            + " continuations and acc/acc_norm are otherwise the harness's";

    /**
     * Whether {@code file} is in llama.cpp's six-line HellaSwag format rather than rowanz's JSON lines: its first
     * non-blank line does not start with '{'.
     */
    public static boolean isHellaswagSixLine(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return false;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String s = r.readLine(); s != null; s = r.readLine())
                if (!s.isBlank()) return !s.stripLeading().startsWith("{");
        }
        return false;
    }

    /**
     * HellaSwag in llama.cpp's six-line format (what {@code llama-perplexity --hellaswag} reads; examples/perplexity/
     * perplexity.cpp, hellaswag_score): per item, {@code activity_label + ": " + ctx}, the gold label 0-3, then the four
     * endings, each already preprocessed as the harness does except ctx_b's capitalisation. Items as the harness
     * builds them: query = the first line, choices = the endings ({@link #HELLASWAG_SIX_LINE_DEVIATION}).
     */
    public static List<Item> hellaswagSixLine(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines = lines.subList(0, lines.size() - 1);
        if (lines.isEmpty()) throw new UsageException("task file " + file + " holds no questions");
        if (lines.size() % 6 != 0)
            throw new UsageException(file + ": " + lines.size() + " lines is not a multiple of 6; llama.cpp's HellaSwag format is 6 lines per item"
                    + " (context, gold label 0-3, four endings)");
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < lines.size(); i += 6) {
            int gold = parseIndex(lines.get(i + 1), 4, 0, file + ":" + (i + 2));
            items.add(Item.of(lines.get(i), List.copyOf(lines.subList(i + 2, i + 6)), gold));
        }
        return items;
    }

    /**
     * hellaswag (rowanz jsonl): query preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices
     * preprocess(ending); a file in llama.cpp's six-line format is read by {@link #hellaswagSixLine}.
     */
    public static List<Item> hellaswag(Path file) throws IOException {
        if (isHellaswagSixLine(file)) return hellaswagSixLine(file);
        List<Item> items = new ArrayList<>();
        for (Row r : jsonl(file)) {
            String ctx = r.str("ctx_a") + " " + capitalize(r.str("ctx_b"));
            String query = hellaswagPreprocess(r.str("activity_label") + ": " + ctx);
            JsonElement e = r.need("endings");
            if (!e.isJsonArray()) throw new UsageException(r.where() + ": \"endings\" is not a list");
            List<String> choices = new ArrayList<>();
            for (JsonElement x : (JsonArray) e) choices.add(hellaswagPreprocess(x.getAsString()));
            JsonElement l = r.obj().get("label");
            if (l == null || l.isJsonNull() || l.getAsString().isEmpty()) throw new UsageException(r.where() + ": no \"label\" (the test split has none; use validation)");
            items.add(Item.of(query, choices, parseIndex(l.getAsString(), choices.size(), 0, r.where())));
        }
        return items;
    }

    /** A label as an index: base 0 ("0","1") or base 1 ("1","2"). */
    private static int parseIndex(String s, int n, int base, String where) {
        try {
            int v = Integer.parseInt(s.strip()) - base;
            if (v >= 0 && v < n) return v;
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new UsageException(where + ": label \"" + s + "\" is not one of " + base + ".." + (base + n - 1));
    }
}
