package sleb.prune;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import sleb.model.Model;
import sleb.model.Tensor;

/**
 * A cheap identity for a model's weights: SHA-256 over every tensor's name, dtype and shape plus up to
 * 4096 evenly spaced elements of each (as float bits). It reads a few MiB even for a 70B model, and any
 * re-export, truncation, dtype change or edited tensor region shows up in practice.
 */
public final class Fingerprint {
    private Fingerprint() {}

    public static String of(Model m) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(m.config().describe().getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
                Tensor t = e.getValue();
                md.update((e.getKey() + "|" + t.dtype() + "|" + java.util.Arrays.toString(t.shape()) + "\n").getBytes(StandardCharsets.UTF_8));
                long n = t.numel();
                int samples = (int) Math.min(n, 4096);
                ByteBuffer b = ByteBuffer.allocate(4 * samples).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < samples; i++) {
                    long idx = samples == n ? i : (long) ((double) i * (n - 1) / (samples - 1));
                    b.putFloat(t.get(idx));
                }
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
