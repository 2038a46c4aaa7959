package sleb.backend.cpu;

import sleb.backend.Activations;
import sleb.backend.DecodeSession;

/** KV-cached decoding on the CPU: per block that runs, keys [batch][kvHeads][headDim][maxLen] (transposed per head) and values [batch][maxLen][kvDim]. */
final class CpuDecodeSession implements DecodeSession {
    private final CpuLoadedModel model;
    private final int batch, maxLen;
    private final int[] blocks;
    private final float[][] kCache, vCache;
    private int pos;

    CpuDecodeSession(CpuLoadedModel model, int batch, int maxLen, int[] blocks) {
        this.model = model;
        this.batch = batch;
        this.maxLen = maxLen;
        this.blocks = blocks.clone();
        int kvd = model.config().kvDim();
        kCache = new float[blocks.length][batch * maxLen * kvd];
        vCache = new float[blocks.length][batch * maxLen * kvd];
    }

    @Override
    public float[][] prefill(int[][] tokens) {
        if (tokens.length != batch) throw new IllegalArgumentException("session batch is " + batch + ", got " + tokens.length);
        CpuActivations x = (CpuActivations) model.embed(tokens, pos);
        run(x.data, x.seqLen());
        return model.lastLogits(x);
    }

    @Override
    public void appendHidden(Activations x) {
        if (!(x instanceof CpuActivations)) throw new IllegalArgumentException("activations are not on the CPU");
        if (x.batch() != batch) throw new IllegalArgumentException("session batch is " + batch + ", got " + x.batch());
        run(((CpuActivations) x).data, x.seqLen());
    }

    private void run(float[] x, int n) {
        if (pos + n > maxLen) throw new IllegalStateException("KV cache holds " + maxLen + " positions; " + (pos + n) + " needed");
        for (int i = 0; i < blocks.length; i++) model.block(blocks[i], x, batch, n, pos, kCache[i], vCache[i], maxLen);
        pos += n;
    }

    @Override public int position() { return pos; }
    @Override public void close() {}
}
