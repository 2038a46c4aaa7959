package sleb.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import sleb.util.UsageException;

/**
 * Reads evaluation text the way the official SLEB code / GPTQ-style loaders prepare it, by preset name:
 * wikitext2 (the raw file as it is), ptb (each line stripped as Hugging Face's ptb_text_only does, then joined
 * with one space as GPTQ-style loaders do), c4 (the first 1100 documents of a
 * json/jsonl shard joined with one space; the caller cuts the tokens to 256 x seqlen); any other name
 * reads the file as it is, or the "text" fields of a .jsonl/.jsonl.gz joined with blank lines.
 */
public final class TextDatasets {
    public static final int C4_DOCUMENTS = 1100;
    public static final int C4_WINDOWS = 256;

    private TextDatasets() {}

    /** NAME=PATH as given on the command line. */
    public static final class Spec {
        public final String name;
        public final Path path;

        public Spec(String name, Path path) {
            this.name = name;
            this.path = path;
        }

        public static Spec parse(String s) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) throw new UsageException("--data expects NAME=PATH (e.g. wikitext2=wiki.test.raw), got '" + s + "'");
            return new Spec(s.substring(0, eq), Path.of(s.substring(eq + 1)));
        }

        /**
         * Every NAME=PATH given to {@code flag}, refusing a NAME given twice: results are kept per name, so a second
         * file under the same name would be reported with the first one's figure.
         */
        public static List<Spec> parseAll(String flag, List<String> args) {
            List<Spec> specs = new ArrayList<>();
            java.util.Set<String> names = new java.util.HashSet<>();
            for (String a : args) {
                Spec spec = parse(a);
                if (!names.add(spec.name))
                    throw new UsageException(flag + " names dataset '" + spec.name + "' twice; give each file its own NAME");
                specs.add(spec);
            }
            return specs;
        }

        @Override public String toString() { return name + "=" + path; }
    }

    public static String load(Spec spec) throws IOException {
        Path p = spec.path;
        if (!Files.isRegularFile(p)) throw new UsageException("data file " + p + " for '" + spec.name + "' does not exist");
        switch (spec.name) {
            case "ptb": {
                // Hugging Face's ptb_text_only yields each line stripped as a "sentence" (empty ones included);
                // GPTQ-style loaders join the sentences with one space
                List<String> sentences = new ArrayList<>();
                for (String line : readLines(p)) sentences.add(pythonStrip(line));
                return String.join(" ", sentences);
            }
            case "c4": {
                List<String> docs = jsonTexts(p, C4_DOCUMENTS);
                if (docs.isEmpty()) throw new UsageException(p + " holds no C4 documents (expected JSON lines with a \"text\" field)");
                return String.join(" ", docs);
            }
            default: {
                if (isJsonLines(p)) return String.join("\n\n", jsonTexts(p, Integer.MAX_VALUE));
                return readText(p);
            }
        }
    }

    /** Python's str.strip(): removes leading and trailing characters for which str.isspace() is true. */
    static String pythonStrip(String s) {
        int a = 0, b = s.length();
        while (a < b && pythonSpace(s.charAt(a))) a++;
        while (b > a && pythonSpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    /** str.isspace() for one BMP character: Unicode separators (Zs, Zl, Zp) and the bidi whitespace/separator controls. */
    private static boolean pythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Whether p is read as JSON lines with a "text" field (.jsonl, .jsonl.gz, .json.gz) rather than as plain text. */
    public static boolean isJsonLines(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".jsonl") || n.endsWith(".jsonl.gz") || n.endsWith(".json.gz");
    }

    static InputStream open(Path p) throws IOException {
        InputStream in = Files.newInputStream(p);
        return p.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : in;
    }

    public static String readText(Path p) throws IOException {
        try (InputStream in = open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public static List<String> readLines(Path p) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(p), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) out.add(line);
        }
        return out;
    }

    /** The "text" field of each JSON line, at most {@code limit} of them. */
    public static List<String> jsonTexts(Path p, int limit) throws IOException {
        List<String> out = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(p), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null && out.size() < limit; line = r.readLine()) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonElement e;
                try {
                    e = JsonParser.parseString(line);
                } catch (RuntimeException ex) {
                    throw new UsageException(p + " line " + lineNo + " is not valid JSON; expected one JSON object with a \"text\" field per line");
                }
                if (!e.isJsonObject() || !((JsonObject) e).has("text"))
                    throw new UsageException(p + " line " + lineNo + " has no \"text\" field");
                out.add(((JsonObject) e).get("text").getAsString());
            }
        } catch (java.util.zip.ZipException | java.io.EOFException ex) {
            throw new UsageException(p + " is not a valid gzip file (" + ex.getMessage() + ")");
        }
        return out;
    }
}
