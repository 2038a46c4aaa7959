package sleb.cli;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import org.testng.annotations.Test;
import sleb.zeroshot.ZeroShot;

/** Result lines print a statistic that cannot be computed as n/a, never NaN. */
public class ResultLinesTest {
    @Test
    public void stderrOfOneQuestionIsNa() {
        ZeroShot.TaskResult r = new ZeroShot.TaskResult();
        r.task = "piqa";
        r.n = 1;
        r.acc = 1;
        r.accStderr = ZeroShot.stderr(r.acc, r.n); // the sample standard deviation of one value does not exist
        r.accNorm = 0;
        r.accNormStderr = ZeroShot.stderr(r.accNorm, r.n);
        String line = ZeroShotCommand.line(r);
        assertTrue(line.startsWith("piqa: acc 1.0000 ± n/a, acc_norm 0.0000 ± n/a (n 1,"), line);
        assertTrue(!line.contains("NaN"), line);
        // with two questions, one right: sd = sqrt(0.5), stderr = sqrt(0.5)/sqrt(2) = 0.5
        r.n = 2;
        r.acc = 0.5;
        r.accStderr = ZeroShot.stderr(r.acc, r.n);
        assertEquals(r.accStderr, 0.5, 1e-12);
        assertTrue(ZeroShotCommand.line(r).startsWith("piqa: acc 0.5000 ± 0.5000"), ZeroShotCommand.line(r));
    }
}
