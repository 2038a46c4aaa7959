package sleb.bench;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertFalse;
import static org.testng.Assert.assertTrue;

import java.util.List;
import org.testng.annotations.Test;

/** The verdict on synthetic timings whose medians and intervals are worked out by hand. */
public class SpeedupCheckTest {
    private static final List<String> NAMES = List.of("dense", "pruned");

    /** 12 blocks, 3 removed: the ideal is 12/9 = 1.333x; a steady 1.71x cannot be real. */
    @Test
    public void aSteadySpeedupAboveTheIdealIsFlagged() {
        double[] dense = {1.00, 1.01, 0.99, 1.00, 1.00};
        double[] pruned = {0.585, 0.585, 0.584, 0.586, 0.585};
        SpeedupCheck c = SpeedupCheck.judge(NAMES, List.of(dense, pruned), new int[] {12, 9});
        assertEquals(c.ideal, 12.0 / 9, 1e-15);
        assertEquals(c.speedup, 1.00 / 0.585, 1e-12); // medians 1.00 and 0.585
        // dense mean 1.0, sd 0.00707, t(4) 2.776: interval 1.0 +- 0.00878; pruned 0.585 +- 0.00088: lower end 0.99122/0.58588 = 1.692
        assertEquals(c.ciLow, (1.0 - 2.7764451 * Math.sqrt(0.0002 / 4) / Math.sqrt(5)) / (0.585 + 2.7764451 * Math.sqrt(0.000002 / 4) / Math.sqrt(5)), 1e-6);
        assertTrue(c.exceedsIdeal);
        assertFalse(c.trustworthy());
        String s = c.suffix(6.1, 2);
        assertTrue(s.contains("NOT FOR PUBLICATION: 1.71x is above the ideal 1.33x (12/9 blocks) beyond its 95% interval") && s.contains("load average 6.10 on 2 cores"), s);
        assertEquals(c.toJson(6.1, 2).get("exceeds_ideal"), true);
        assertEquals(c.toJson(6.1, 2).get("load_average"), 6.1);
    }

    /** 1.25x for 3 of 12 removed, tight intervals: below the ideal, nothing to say. */
    @Test
    public void aPlausibleSteadySpeedupPasses() {
        double[] dense = {1.00, 1.01, 0.99, 1.00, 1.00};
        double[] pruned = {0.80, 0.80, 0.81, 0.79, 0.80};
        SpeedupCheck c = SpeedupCheck.judge(NAMES, List.of(dense, pruned), new int[] {12, 9});
        assertEquals(c.speedup, 1.25, 1e-12);
        assertFalse(c.exceedsIdeal);
        assertTrue(c.trustworthy(), c.warnings.toString());
        assertEquals(c.suffix(0.5, 2), "");
    }

    /** Above the ideal but inside a wide interval: not "exceeds", but the interval itself is too wide to quote. */
    @Test
    public void aNoisyMeasurementIsFlaggedAsNoisy() {
        double[] dense = {1.0, 2.0, 1.0, 2.0, 1.5};  // mean 1.5, sd 0.5: interval +- 0.621, 83% of the median 1.5
        double[] pruned = {1.0, 1.0, 1.01, 0.99, 1.0};
        SpeedupCheck c = SpeedupCheck.judge(NAMES, List.of(dense, pruned), new int[] {12, 9});
        assertEquals(c.speedup, 1.5, 1e-12);
        assertFalse(c.exceedsIdeal, "lower end " + c.ciLow + " is below the ideal");
        assertEquals(c.relativeCi[0], 2 * 2.7764451 * 0.5 / Math.sqrt(5) / 1.5, 1e-6);
        assertFalse(c.trustworthy());
        assertTrue(c.suffix(1, 2).contains("dense: 95% interval 83% of the median (over 10%)"), c.suffix(1, 2));
    }

    /** One iteration has no interval: said so, never NaN. */
    @Test
    public void oneIterationHasNoInterval() {
        SpeedupCheck c = SpeedupCheck.judge(List.of("dense"), List.of(new double[] {1.0}), new int[] {12});
        assertFalse(c.trustworthy());
        assertTrue(c.suffix(Double.NaN, 2).contains("dense: one timed iteration, no interval; load average n/a on 2 cores"), c.suffix(Double.NaN, 2));
    }
}
