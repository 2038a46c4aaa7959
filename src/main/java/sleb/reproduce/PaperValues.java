package sleb.reproduce;

import java.util.List;
import java.util.Locale;

/**
 * The values the SLEB paper publishes (Song et al., ICML 2024, Tables 1 and 2) for its dense models and for SLEB
 * at 10% and 20% of the blocks removed, so that `sleb reproduce` can print them beside the measured ones.
 *
 * <p>Table 1: C4 perplexity (seqlen 2048) and, for LLaMA-2-70B on 2×A100, generation throughput (tokens/s).
 * Table 2: mean zero-shot accuracy in % over PIQA, WinoGrande, HellaSwag, ARC-e and ARC-c, and, for LLaMA-2-70B,
 * prompt latency (ms). Every array is {dense, SLEB 10%, SLEB 20%}.
 */
public final class PaperValues {
    private PaperValues() {}

    /** One model of the paper: its name, the shape a checkpoint must have to be it, and the published figures. */
    public record PaperModel(String name, String family, int layers, int hiddenSize, double[] c4Ppl, double[] meanAccuracy,
                             double[] throughputTokensPerSecond, double[] promptLatencyMs) {
        /** The published figure of {@code values} for removal ratio r (0 = dense), or NaN when the paper has none. */
        public static double at(double[] values, double ratio) {
            if (values == null) return Double.NaN;
            if (ratio == 0) return values[0];
            if (Math.abs(ratio - 0.1) < 1e-9) return values[1];
            if (Math.abs(ratio - 0.2) < 1e-9) return values[2];
            return Double.NaN;
        }
    }

    public static final List<PaperModel> MODELS = List.of(
            new PaperModel("OPT-6.7B", "opt", 32, 4096, new double[] {12.71, 13.84, 15.99}, new double[] {60.70, 60.00, 57.61}, null, null),
            new PaperModel("OPT-13B", "opt", 40, 5120, new double[] {12.06, 12.43, 13.81}, new double[] {61.79, 62.07, 60.08}, null, null),
            new PaperModel("OPT-30B", "opt", 48, 7168, new double[] {11.44, 11.65, 12.74}, new double[] {64.40, 64.48, 62.86}, null, null),
            new PaperModel("OPT-66B", "opt", 64, 9216, new double[] {10.99, 11.25, 12.54}, new double[] {66.16, 65.38, 62.53}, null, null),
            new PaperModel("LLaMA-2-7B", "llama", 32, 4096, new double[] {7.26, 9.34, 12.32}, new double[] {69.00, 62.24, 56.80}, null, null),
            new PaperModel("LLaMA-2-13B", "llama", 40, 5120, new double[] {6.73, 7.80, 9.42}, new double[] {71.76, 66.77, 62.96}, null, null),
            new PaperModel("LLaMA-2-70B", "llama", 80, 8192, new double[] {5.71, 6.32, 7.31}, new double[] {76.57, 73.14, 70.81},
                    new double[] {299, 336, 381}, new double[] {1718.4, 1529.1, 1364.1}));

    /** Where the LLaMA-2-70B speed figures were measured, as the paper says. */
    public static final String SPEED_SETUP = "LLaMA-2-70B on 2×A100 (paper)";

    /**
     * The paper model a checkpoint is, or null: its file or directory name must name the model (case, '-', '_' and
     * '.' ignored: "Llama-2-7b-hf" is LLaMA-2-7B, "opt-6.7b" is OPT-6.7B, "llama-2-70b" is not LLaMA-2-7B) and its
     * config must have the paper model's family, block count and hidden size, so a renamed or fine-tuned model of
     * another shape never gets the published column.
     */
    public static PaperModel match(String checkpointName, String family, int layers, int hiddenSize) {
        String n = squash(checkpointName);
        for (PaperModel m : MODELS) {
            String key = squash(m.name());
            int at = n.indexOf(key);
            boolean named = at >= 0 && (at + key.length() == n.length() || !Character.isDigit(n.charAt(at + key.length())));
            if (named && m.family().equals(family) && m.layers() == layers && m.hiddenSize() == hiddenSize) return m;
        }
        return null;
    }

    private static String squash(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[-_. ]", "");
    }
}
