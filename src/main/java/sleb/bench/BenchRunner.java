package sleb.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import sleb.backend.Activations;
import sleb.backend.DecodeSession;
import sleb.backend.LoadedModel;
import sleb.model.BlockSelection;
import sleb.model.ModelConfig;

/**
 * Runs the timed protocols on one loaded model. Every variant (dense, pruned) shares the same weights;
 * iterations alternate between them, with the order flipped every iteration, so that slow drifts of the
 * machine (other processes, frequency changes) fall on both alike.
 */
public final class BenchRunner {
    private static volatile float sink;

    private BenchRunner() {}

    public enum Mode { PROMPT, GENERATE }

    /** What one iteration does. */
    public static final class Protocol {
        public final Mode mode;
        public final int batch, promptLen, genLen;

        public Protocol(Mode mode, int batch, int promptLen, int genLen) {
            this.mode = mode;
            this.batch = batch;
            this.promptLen = promptLen;
            this.genLen = genLen;
        }

        /** Tokens an iteration counts: prompt tokens processed, or new tokens generated. */
        public long tokens() { return (long) batch * (mode == Mode.PROMPT ? promptLen : genLen); }

        public String describe() {
            if (mode == Mode.PROMPT)
                return String.format("prompt processing: batch %d x %d tokens in one forward pass, lm_head for the last position only", batch, promptLen);
            return String.format("generation: batch %d, prompt %d tokens (one prefill), then %d single-token greedy steps with a KV cache", batch, promptLen, genLen);
        }
    }

    /** A set of blocks to run and its timings. */
    public static final class Variant {
        public final String label;
        public final int[] blocks;
        public final List<Double> seconds = new ArrayList<>();
        /** Generation only: the time of the single-token steps, prefill excluded. */
        public final List<Double> decodeSeconds = new ArrayList<>();

        public Variant(String label, int[] blocks) {
            this.label = label;
            this.blocks = blocks.clone();
        }

        /** The dense model, and the pruned one when the selection removes any block. */
        public static List<Variant> denseAndPruned(BlockSelection blocks) {
            List<Variant> v = new ArrayList<>();
            v.add(new Variant("dense", blocks.all()));
            if (!blocks.removed().isEmpty()) v.add(new Variant("pruned", blocks.kept()));
            return v;
        }

        public static double[] arr(List<Double> l) { return l.stream().mapToDouble(Double::doubleValue).toArray(); }
    }

    /** Heap for activations and KV caches beyond the weights (a generous estimate), bytes. */
    public static long workBytes(ModelConfig c, Protocol p) {
        long rows = (long) p.batch * p.promptLen;
        long perRow = 3L * c.dim + 2L * c.qDim() + 4L * c.kvDim() + 2L * c.hiddenDim;
        long act = rows * perRow * 4 + (long) p.batch * c.vocabSize * 4 * 2;
        long kv = p.mode == Mode.GENERATE ? 2L * c.nLayers * p.batch * (p.promptLen + p.genLen) * c.kvDim() * 4 * 2 : 0;
        return act + kv;
    }

    public static void run(LoadedModel lm, Protocol p, List<Variant> variants, int warmup, int iters, long seed, Consumer<String> log) {
        int vocab = lm.config().vocabSize;
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] tokens = new int[p.batch][p.promptLen];
        for (int[] row : tokens) for (int i = 0; i < row.length; i++) row[i] = rnd.nextInt(vocab);
        for (int it = -warmup; it < iters; it++) {
            StringBuilder line = new StringBuilder(it < 0 ? "warm-up" : "iteration " + (it + 1) + "/" + iters);
            for (int j = 0; j < variants.size(); j++) {
                int idx = ((it & 1) == 0) ? j : variants.size() - 1 - j;
                Variant v = variants.get(idx);
                double[] t = p.mode == Mode.PROMPT ? prompt(lm, tokens, v.blocks) : generate(lm, tokens, p.genLen, v.blocks);
                if (it >= 0) {
                    v.seconds.add(t[0]);
                    if (p.mode == Mode.GENERATE) v.decodeSeconds.add(t[1]);
                }
                line.append(String.format("  %s %.1f ms", v.label, t[0] * 1e3));
            }
            log.accept(line.toString());
        }
    }

    /** Seconds for embed, the blocks and the last position's logits. */
    static double[] prompt(LoadedModel lm, int[][] tokens, int[] blocks) {
        long t0 = System.nanoTime();
        try (Activations x = lm.embed(tokens)) {
            for (int b : blocks) lm.runBlock(b, x);
            float[][] logits = lm.lastLogits(x);
            sink += logits[0][0];
        }
        return new double[] {(System.nanoTime() - t0) / 1e9};
    }

    /** {total seconds, decode-only seconds} of a prefill followed by genLen greedy single-token steps. */
    static double[] generate(LoadedModel lm, int[][] prompt, int genLen, int[] blocks) {
        int batch = prompt.length;
        try (DecodeSession s = lm.newSession(batch, prompt[0].length + genLen, blocks)) {
            long t0 = System.nanoTime();
            float[][] logits = s.prefill(prompt);
            long t1 = System.nanoTime();
            int[] next = new int[batch];
            for (int g = 0; g < genLen; g++) {
                for (int b = 0; b < batch; b++) next[b] = argmax(logits[b]);
                logits = s.step(next);
            }
            long t2 = System.nanoTime();
            sink += logits[0][0];
            return new double[] {(t2 - t0) / 1e9, (t2 - t1) / 1e9};
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
