package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.testng.annotations.Test;
import sleb.SharedData;

/** The layout's sizes and offsets against a checkpoint written by llama2.c's own export.py (stories260K.bin, legacy format). */
public class Llama2cLayoutTest {
    @Test
    public void legacySizesAndRopeOffsetMatchExportPy() throws Exception {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        ModelConfig c;
        try (Model m = Llama2cLoader.load(bin)) {
            c = m.config();
        }
        assertEquals(Llama2cLayout.fileBytes(c, false), Files.size(bin));
        // export.py's legacy file holds freq_cis_real = cos(t / 10000^(2i/head_dim)) at the offset, then freq_cis_imag = sin(...),
        // each [seq_len, head_dim/2] fp32 (computed in fp32 there: angles up to ~511 rad, so an absolute bound of 1e-4)
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        int half = c.headDim / 2;
        long base = Llama2cLayout.legacyRopeOffset(c);
        long sinBase = base + Llama2cLayout.ropeTableBytes(c) / 2;
        double worst = 0;
        for (int t : new int[] {0, 1, 7, 100, c.maxSeqLen - 1}) {
            for (int i = 0; i < half; i++) {
                double angle = t / Math.pow(10000.0, 2.0 * i / c.headDim);
                worst = Math.max(worst, Math.abs(b.getFloat((int) (base + 4L * (t * half + i))) - Math.cos(angle)));
                worst = Math.max(worst, Math.abs(b.getFloat((int) (sinBase + 4L * (t * half + i))) - Math.sin(angle)));
            }
        }
        assertTrue(worst < 1e-4, "worst |table - cos/sin| " + worst);
    }
}
