package sleb.bench;

import java.util.Arrays;
import org.apache.commons.math3.distribution.TDistribution;

/** Summary statistics of timed iterations, with a two-sided 95% Student-t confidence interval of the mean. */
public final class Stats {
    public final int n;
    public final double mean, sd, min, median, max, ciLow, ciHigh;

    private Stats(int n, double mean, double sd, double min, double median, double max, double ciLow, double ciHigh) {
        this.n = n;
        this.mean = mean;
        this.sd = sd;
        this.min = min;
        this.median = median;
        this.max = max;
        this.ciLow = ciLow;
        this.ciHigh = ciHigh;
    }

    /** Statistics of the samples; with one sample the interval is NaN (no spread to estimate). */
    public static Stats of(double[] samples) {
        int n = samples.length;
        if (n == 0) throw new IllegalArgumentException("no samples");
        double[] s = samples.clone();
        Arrays.sort(s);
        double mean = 0;
        for (double v : s) mean += v;
        mean /= n;
        double ss = 0;
        for (double v : s) ss += (v - mean) * (v - mean);
        double sd = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        double lo = Double.NaN, hi = Double.NaN;
        if (n > 1) {
            double t = new TDistribution(n - 1).inverseCumulativeProbability(0.975);
            double half = t * sd / Math.sqrt(n);
            lo = mean - half;
            hi = mean + half;
        }
        return new Stats(n, mean, sd, s[0], median, s[n - 1], lo, hi);
    }
}
