package sleb.backend.cpu;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.testng.annotations.Test;

public class VectorMathTest {
    @Test
    public void expMatchesMathExpWithinThreeUlp() {
        int l = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[l], y = new float[l];
        double worst = 0;
        for (float v = -87f; v < 88f; v += 0.00137f * l) {
            for (int i = 0; i < l; i++) x[i] = v + 0.00137f * i;
            VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < l; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
            }
        }
        assertTrue(worst <= 3, "worst error " + worst + " ulp");
        float[] edge = new float[l];
        edge[0] = -100f;
        edge[1] = 0f;
        edge[2] = Float.NEGATIVE_INFINITY;
        if (l > 3) edge[3] = 100f;
        VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, edge, 0)).intoArray(y, 0);
        assertEquals(y[0], 0f);
        assertEquals(y[1], 1f);
        assertEquals(y[2], 0f);
        if (l > 3) assertEquals(y[3], Float.POSITIVE_INFINITY);
    }
}
