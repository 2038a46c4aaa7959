package sleb.zeroshot;

import java.util.List;

/**
 * One multiple-choice question as lm-evaluation-harness v0.4 turns it into loglikelihood requests:
 * choice i is scored as loglik(continuations[i] | contexts[i]). For most tasks every context is the
 * same prompt and the continuations are " " + choice text; for WinoGrande (partial evaluation) the
 * contexts differ and the continuation is shared. {@code choices} are the strings whose length
 * (in characters, as Python's len) normalises acc_norm: the harness's doc_to_choice.
 */
public record Item(List<String> contexts, List<String> continuations, List<String> choices, int gold) {
    public Item {
        if (contexts.size() != continuations.size() || contexts.size() != choices.size())
            throw new IllegalArgumentException("contexts, continuations and choices differ in number");
        if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("gold " + gold + " out of range");
        contexts = List.copyOf(contexts);
        continuations = List.copyOf(continuations);
        choices = List.copyOf(choices);
    }

    /** The usual layout: one prompt, continuations " " + choice (the harness's target_delimiter). */
    public static Item of(String context, List<String> choices, int gold) {
        List<String> ctx = new java.util.ArrayList<>(), cont = new java.util.ArrayList<>();
        for (String c : choices) {
            ctx.add(context);
            cont.add(ZeroShot.TARGET_DELIMITER + c);
        }
        return new Item(ctx, cont, choices, gold);
    }

    public int size() { return choices.size(); }
}
