package sleb.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Judges whether a benchmark result can be trusted, so that a figure measured on a loaded machine is not
 * copied into a paper. Removing blocks cannot make a model faster than n/kept (the ideal: all time in the
 * blocks, none in embeddings, lm_head or overheads), so a speedup whose whole 95% interval lies above that
 * ideal is an artifact of the measurement. A variant whose 95% interval of the mean time is wider than
 * {@link #MAX_RELATIVE_CI} of its median time was measured too noisily to quote.
 *
 * <p>Inputs: seconds per timed iteration of each variant; block counts. The speedup is the ratio of the median
 * times (dense / pruned), the same tokens in both; its interval is the ratio of the two 95% Student-t
 * intervals of the mean times, taken at opposite ends (conservative: [dense low / pruned high, dense high /
 * pruned low]).
 */
public final class SpeedupCheck {
    /** Widest acceptable 95% interval of a variant's mean time, as a fraction of its median time. */
    public static final double MAX_RELATIVE_CI = 0.10;

    public final double speedup, ciLow, ciHigh, ideal;
    public final boolean exceedsIdeal;
    /** Per variant in the order given: the interval width over the median (NaN with one iteration). */
    public final double[] relativeCi;
    public final List<String> warnings = new ArrayList<>();

    private SpeedupCheck(double speedup, double ciLow, double ciHigh, double ideal, boolean exceedsIdeal, double[] relativeCi) {
        this.speedup = speedup;
        this.ciLow = ciLow;
        this.ciHigh = ciHigh;
        this.ideal = ideal;
        this.exceedsIdeal = exceedsIdeal;
        this.relativeCi = relativeCi;
    }

    /**
     * @param labels variant names (dense first; a pruned variant second, or none)
     * @param seconds seconds per timed iteration of each variant
     * @param blocks blocks run by each variant
     */
    public static SpeedupCheck judge(List<String> labels, List<double[]> seconds, int[] blocks) {
        int v = seconds.size();
        Stats[] s = new Stats[v];
        double[] rel = new double[v];
        for (int i = 0; i < v; i++) {
            s[i] = Stats.of(seconds.get(i));
            rel[i] = (s[i].ciHigh - s[i].ciLow) / s[i].median;
        }
        double speedup = Double.NaN, lo = Double.NaN, hi = Double.NaN, ideal = Double.NaN;
        boolean exceeds = false;
        if (v > 1) {
            speedup = s[0].median / s[1].median;
            lo = s[0].ciLow / s[1].ciHigh;
            hi = s[1].ciLow > 0 ? s[0].ciHigh / s[1].ciLow : Double.POSITIVE_INFINITY;
            ideal = (double) blocks[0] / blocks[1];
            exceeds = speedup > ideal && (Double.isNaN(lo) || lo > ideal);
        }
        SpeedupCheck c = new SpeedupCheck(speedup, lo, hi, ideal, exceeds, rel);
        if (exceeds)
            c.warnings.add(String.format(Locale.ROOT, "%.2fx is above the ideal %.2fx (%d/%d blocks)%s: the timings are disturbed",
                    speedup, ideal, blocks[0], blocks[1], Double.isNaN(lo) ? " with no interval to excuse it" : " beyond its 95% interval"));
        for (int i = 0; i < v; i++) {
            if (Double.isNaN(rel[i])) c.warnings.add(labels.get(i) + ": one timed iteration, no interval");
            else if (rel[i] > MAX_RELATIVE_CI)
                c.warnings.add(String.format(Locale.ROOT, "%s: 95%% interval %.0f%% of the median (over %.0f%%)", labels.get(i), 100 * rel[i], 100 * MAX_RELATIVE_CI));
        }
        return c;
    }

    public boolean trustworthy() { return warnings.isEmpty(); }

    /** " [NOT FOR PUBLICATION: ...; load average L on C cores]" to append to a result line, or "" when trustworthy. */
    public String suffix(double loadAverage, int cores) {
        if (trustworthy()) return "";
        return " [NOT FOR PUBLICATION: " + String.join("; ", warnings)
                + String.format(Locale.ROOT, "; load average %s on %d cores]", Double.isNaN(loadAverage) ? "n/a" : String.format(Locale.ROOT, "%.2f", loadAverage), cores);
    }

    /** The verdict for the results JSON. */
    public Map<String, Object> toJson(double loadAverage, int cores) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trustworthy", trustworthy());
        if (!Double.isNaN(ideal)) {
            m.put("ideal_speedup", ideal);
            m.put("speedup_ci95", new double[] {ciLow, ciHigh});
            m.put("exceeds_ideal", exceedsIdeal);
        }
        m.put("relative_ci95", relativeCi);
        m.put("max_relative_ci95", MAX_RELATIVE_CI);
        m.put("warnings", warnings);
        m.put("load_average", loadAverage);
        m.put("cores", cores);
        return m;
    }
}
