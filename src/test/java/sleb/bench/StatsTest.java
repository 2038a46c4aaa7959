package sleb.bench;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import org.testng.annotations.Test;

public class StatsTest {
    @Test
    public void tIntervalOfASmallSampleMatchesHandComputation() {
        // mean 12, s^2 = (4+0+1+1+4)/4 = 2.5, t(0.975, 4) = 2.7764451, half width = 2.7764451 * sqrt(2.5/5) = 1.9632432
        Stats s = Stats.of(new double[] {10, 12, 11, 13, 14});
        assertEquals(s.n, 5);
        assertEquals(s.mean, 12.0, 1e-12);
        assertEquals(s.sd, Math.sqrt(2.5), 1e-12);
        assertEquals(s.min, 10.0);
        assertEquals(s.median, 12.0);
        assertEquals(s.max, 14.0);
        assertEquals(s.ciLow, 12 - 1.9632432, 1e-6);
        assertEquals(s.ciHigh, 12 + 1.9632432, 1e-6);
    }

    @Test
    public void evenCountMedianAndTwoSamples() {
        // n = 2: t(0.975, 1) = 12.7062047, sd = sqrt(2), half = 12.7062047 * sqrt(2)/sqrt(2) = 12.7062047
        Stats s = Stats.of(new double[] {3, 1});
        assertEquals(s.median, 2.0);
        assertEquals(s.ciLow, 2 - 12.7062047, 1e-6);
        assertEquals(s.ciHigh, 2 + 12.7062047, 1e-6);
    }

    @Test
    public void oneSampleHasNoInterval() {
        Stats s = Stats.of(new double[] {5});
        assertEquals(s.median, 5.0);
        assertTrue(Double.isNaN(s.ciLow) && Double.isNaN(s.ciHigh));
    }
}
