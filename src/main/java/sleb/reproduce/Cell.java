package sleb.reproduce;

import java.nio.file.Path;

/**
 * One unit of a reproduction that is run whole and saved when done: a command of SLEB-J (prune, eval, zeroshot,
 * bench) on one model, dense ({@code ratio} 0) or with SLEB's selection at one removal ratio. Its result file is
 * the command's own results file, which also holds its resume state.
 *
 * @param model index into the plan's models
 * @param ratio the removal ratio, 0 for the dense model
 * @param kind what runs
 * @param out the command's results file (run.json for prune, eval.json, zeroshot.json, bench-*.json)
 * @param units the estimated work, in token × block-parameter units ({@link CostEstimate})
 */
public record Cell(int model, double ratio, Kind kind, Path out, double units) {
    public enum Kind {
        PRUNE("SLEB selection"), EVAL("perplexity"), ZEROSHOT("zero-shot"), BENCH_PROMPT("prompt latency"), BENCH_GENERATE("generation throughput");

        public final String title;

        Kind(String title) { this.title = title; }

        /** The file name of this kind's result inside a model/ratio directory. */
        public String fileName() {
            return switch (this) {
                case PRUNE -> "run.json";
                case EVAL -> "eval.json";
                case ZEROSHOT -> "zeroshot.json";
                case BENCH_PROMPT -> "bench-prompt.json";
                case BENCH_GENERATE -> "bench-generate.json";
            };
        }
    }

    /** The directory name of a ratio: "dense" or "sleb-10" (percent, as the paper names its rows). */
    public static String ratioDir(double ratio) {
        return ratio == 0 ? "dense" : "sleb-" + percent(ratio);
    }

    /** "Dense" or "SLEB 10%". */
    public static String method(double ratio) {
        return ratio == 0 ? "Dense" : "SLEB " + percent(ratio) + "%";
    }

    static String percent(double ratio) {
        double p = ratio * 100;
        return Math.abs(p - Math.rint(p)) < 1e-9 ? Long.toString(Math.round(p)) : Double.toString(Math.round(p * 1000) / 1000.0);
    }

    /** "cell id" as the state file and the progress lines name it: label/dense/eval. */
    public String id(String modelLabel) {
        return modelLabel + "/" + ratioDir(ratio) + "/" + kind.name().toLowerCase();
    }
}
