package sleb.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sleb.SharedData;

/** llama.cpp's tokenizer test vectors: .inp strings split by "\n__ggml_vocab_test__\n", .out ids one line per string. */
final class Vectors {
    final List<String> texts = new ArrayList<>();
    final List<int[]> ids = new ArrayList<>();

    static Vectors load(String name) throws IOException {
        Path inp = SharedData.require("data/tokenizer-vectors/" + name + ".inp");
        Path out = SharedData.require("data/tokenizer-vectors/" + name + ".out");
        String[] parts = Files.readString(inp, StandardCharsets.UTF_8).split("\n__ggml_vocab_test__\n", -1);
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        Vectors v = new Vectors();
        for (int i = 0; i < lines.size(); i++) {
            v.texts.add(parts[i]);
            String l = lines.get(i).trim();
            v.ids.add(l.isEmpty() ? new int[0] : Arrays.stream(l.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        return v;
    }

    /** Returns a description of every mismatch, empty when all match. */
    List<String> mismatches(Tokenizer t) {
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] got = t.encode(texts.get(i));
            if (!Arrays.equals(got, ids.get(i)))
                bad.add("#" + i + " '" + texts.get(i) + "': want " + Arrays.toString(ids.get(i)) + " got " + Arrays.toString(got));
        }
        return bad;
    }
}
