package sleb.zeroshot;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertThrows;
import static org.testng.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.testng.annotations.Test;
import sleb.SharedData;
import sleb.util.UsageException;

/** Prompts from real rows of the shared files, against strings written out by hand from lm-evaluation-harness v0.4's task configs. */
public class PromptsTest {
    static Path data(String rel) { return SharedData.require("data/zeroshot/" + rel); }

    static void assertItem(Item it, List<String> contexts, List<String> continuations, int gold) {
        assertEquals(it.contexts(), contexts);
        assertEquals(it.continuations(), continuations);
        assertEquals(it.gold(), gold);
    }

    @Test
    public void piqa() throws Exception {
        List<Item> items = TaskReaders.piqa(data("piqa/valid.jsonl"));
        assertEquals(items.size(), 1838);
        String q = "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:";
        assertItem(items.get(0), List.of(q, q), List.of(
                " Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.",
                " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish."), 0);
        // trailing and doubled spaces are kept as the file has them
        q = "Question: dresser\nAnswer:";
        assertItem(items.get(1), List.of(q, q), List.of(" replace drawer with bobby pin ", " finish, woodgrain with  bobby pin "), 1);
        assertEquals(items.get(1).choices(), List.of("replace drawer with bobby pin ", "finish, woodgrain with  bobby pin "));
    }

    @Test
    public void arc() throws Exception {
        List<Item> easy = TaskReaders.arc(data("arc/ARC-Easy-Dev.jsonl"));
        assertEquals(easy.size(), 570);
        String q = "Question: Which technology was developed most recently?\nAnswer:";
        assertItem(easy.get(0), List.of(q, q, q, q), List.of(" cellular telephone", " television", " refrigerator", " airplane"), 0);
        List<Item> ch = TaskReaders.arc(data("arc/ARC-Challenge-Test.jsonl"));
        assertEquals(ch.size(), 1172);
        q = "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:";
        assertItem(ch.get(0), List.of(q, q, q, q), List.of(" Planetary density will decrease.", " Planetary years will become longer.",
                " Planetary days will become shorter.", " Planetary gravity will become stronger."), 2);
        // line 45: numeric labels "1".."4", answerKey "2"
        Item n = ch.get(44);
        assertEquals(n.contexts().get(0), "Question: Which statement best describes the energy changes that occur while a child is riding on a sled down a steep, snow-covered hill?\nAnswer:");
        assertEquals(n.continuations().get(1), " Kinetic energy increases and potential energy decreases.");
        assertEquals(n.gold(), 1);
    }

    @Test
    public void winograndePartialEvaluation() throws Exception {
        List<Item> items = TaskReaders.winogrande(data("winogrande/dev.jsonl"));
        assertEquals(items.size(), 1267);
        String rest = " always got the easier cases.";
        assertItem(items.get(0), List.of("Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"),
                List.of(rest, rest), 1);
        assertEquals(items.get(0).choices(), items.get(0).contexts());
        assertEquals(items.get(1).gold(), 0);
        // the labels file beside agrees with the "answer" fields
        List<String> labels = TaskReaders.labelLines(data("winogrande/dev-labels.lst"));
        for (int i = 0; i < items.size(); i++) assertEquals(items.get(i).gold(), Integer.parseInt(labels.get(i)) - 1, "item " + i);
    }

    @Test
    public void boolq() throws Exception {
        List<Item> items = TaskReaders.boolq(data("boolq/val.jsonl"));
        assertEquals(items.size(), 3270);
        Item it = items.get(0);
        String ctx = it.contexts().get(0);
        assertTrue(ctx.startsWith("Ethanol fuel -- All biomass goes through at least some of th"), ctx);
        assertTrue(ctx.endsWith(" less petroleum than producing gasoline.\nQuestion: does ethanol take more energy make that produces?\nAnswer:"), ctx);
        assertEquals(it.continuations(), List.of(" no", " yes"));
        assertEquals(it.gold(), 0); // "label": "false"
        long yes = items.stream().filter(x -> x.gold() == 1).count();
        assertEquals(yes, 2033); // PROVENANCE.md: 2033 true, 1237 false
    }

    @Test
    public void boolqAcceptsBooleanLabelsAndGoogleAnswerField() throws Exception {
        Path f = Files.createTempFile("boolq", ".jsonl");
        Files.writeString(f, "{\"question\": \"is it\", \"passage\": \"P -- t\", \"label\": true}\n{\"question\": \"q\", \"passage\": \"p\", \"answer\": false}\n");
        List<Item> items = TaskReaders.boolq(f);
        assertEquals(items.get(0).contexts().get(0), "P -- t\nQuestion: is it?\nAnswer:");
        assertEquals(items.get(0).gold(), 1);
        assertEquals(items.get(1).gold(), 0);
    }

    @Test
    public void openbookqa() throws Exception {
        List<Item> items = TaskReaders.openbookqa(data("openbookqa/test.jsonl"));
        assertEquals(items.size(), 500);
        String q = "A person wants to start saving money so that they can afford a nice vacation at the end of the year. After looking over their budget and expenses, they decide the best way to save money is to";
        assertItem(items.get(0), List.of(q, q, q, q), List.of(" make more phone calls", " quit eating lunch out", " buy less with monopoly money", " have lunch with friends"), 1);
        assertItem(items.get(2), List.of("Predators eat", "Predators eat", "Predators eat", "Predators eat"), List.of(" lions", " humans", " bunnies", " grass"), 2);
    }

    @Test
    public void hellaswagPreprocess() throws Exception {
        Path f = Files.createTempFile("hellaswag", ".jsonl");
        Files.writeString(f, String.join("\n",
                "{\"ind\": 24, \"activity_label\": \"Roof shingle removal\", \"ctx_a\": \"A man is sitting on a roof.\", \"ctx_b\": \"he\", \"ctx\": \"A man is sitting on a roof. he\", \"split\": \"val\", \"split_type\": \"indomain\", \"label\": 3, \"endings\": [\"is using wrap to wrap a pair of skis.\", \"is ripping level tiles off.\", \"is holding a rubik's cube.\", \"starts pulling up roofing on a roof.\"], \"source_id\": \"activitynet~v_-JhWjGDPHMY\"}",
                "{\"activity_label\": \"Home and Garden\", \"ctx_a\": \"[header] How to clean a roof [title] Get a ladder.\", \"ctx_b\": \"\", \"label\": \"0\", \"endings\": [\"[substeps] Wear gloves  [title] Rinse well.\", \"b\"]}",
                "{\"activity_label\": \"Personal Care and Style\", \"ctx_a\": \"[header] How to dye your hair [title] Buy dye.\", \"ctx_b\": \"[step] Choose A SHADE.\", \"label\": 1, \"endings\": [\"x\", \"y\"]}",
                ""));
        List<Item> items = TaskReaders.hellaswag(f);
        String q = "Roof shingle removal: A man is sitting on a roof. He";
        assertItem(items.get(0), List.of(q, q, q, q), List.of(" is using wrap to wrap a pair of skis.", " is ripping level tiles off.",
                " is holding a rubik's cube.", " starts pulling up roofing on a roof."), 3);
        // (strings below checked against the harness's preprocess run in Python)
        assertEquals(items.get(1).contexts().get(0), "Home and Garden: How to clean a roof. Get a ladder.");
        assertEquals(items.get(1).choices().get(0), " Wear gloves . Rinse well.");
        assertEquals(items.get(1).continuations().get(0), "  Wear gloves . Rinse well.");
        assertEquals(items.get(1).gold(), 0);
        // Python's str.capitalize lower-cases the rest
        assertEquals(items.get(2).contexts().get(0), "Personal Care and Style: How to dye your hair. Buy dye. choose a shade.");
        assertEquals(items.get(2).gold(), 1);
    }

    @Test
    public void taskNamesAndBadFiles() throws Exception {
        assertEquals(Task.parse("ARC-Easy"), Task.ARC_EASY);
        UsageException e = org.testng.Assert.expectThrows(UsageException.class, () -> Task.parse("mmlu"));
        assertTrue(e.getMessage().contains("unknown task 'mmlu'") && e.getMessage().contains("piqa"), e.getMessage());
        Path dir = Files.createTempDirectory("zs");
        assertThrows(UsageException.class, () -> TaskReaders.arc(dir.resolve("missing.jsonl")));
        Path bad = dir.resolve("valid.jsonl");
        Files.writeString(bad, "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n");
        e = org.testng.Assert.expectThrows(UsageException.class, () -> TaskReaders.piqa(bad));
        assertTrue(e.getMessage().contains("valid-labels.lst"), e.getMessage());
        Files.writeString(dir.resolve("valid-labels.lst"), "0\n");
        assertEquals(TaskReaders.piqa(bad).get(0).gold(), 0);
        Files.writeString(bad, "{\"goal\": \"g\", \"sol1\": \"a\"}\n");
        e = org.testng.Assert.expectThrows(UsageException.class, () -> TaskReaders.piqa(bad));
        assertTrue(e.getMessage().contains(":1: missing field \"sol2\""), e.getMessage());
    }
}
