package sleb.backend.cuda;

import sleb.backend.DecodeSession;
import sleb.model.ModelConfig;

/**
 * Incremental decoding on one device: an fp32 KV cache [batch][maxLen][kvDim] per block that runs.
 * A step launches ~11 kernels/GEMMs per block; they are not captured in a CUDA graph yet, so small
 * models are bound by launch overhead during decode.
 */
final class CudaDecodeSession implements DecodeSession {
    private final CudaLoadedModel model;
    private final CudaDevice dev;
    private final int batch, maxLen;
    private final int[] blocks;
    private final CudaLoadedModel.KvCache[] caches;
    private int pos;
    private boolean closed;

    CudaDecodeSession(CudaLoadedModel model, CudaDevice dev, int batch, int maxLen, int[] blocks) {
        this.model = model;
        this.dev = dev;
        this.batch = batch;
        this.maxLen = maxLen;
        this.blocks = blocks.clone();
        ModelConfig cfg = model.config();
        if (batch <= 0 || maxLen <= 0) throw new IllegalArgumentException("batch and maxLen must be positive");
        caches = new CudaLoadedModel.KvCache[blocks.length];
        long bytes = 4L * batch * maxLen * cfg.kvDim();
        try {
            for (int i = 0; i < blocks.length; i++) {
                CudaLoadedModel.KvCache c = new CudaLoadedModel.KvCache();
                c.maxLen = maxLen;
                caches[i] = c;
                c.k = dev.alloc(bytes, "KV cache of block " + blocks[i] + " (" + blocks.length + " blocks x 2 x " + CudaOutOfMemoryException.mib(bytes) + ")");
                c.v = dev.alloc(bytes, "KV cache of block " + blocks[i] + " (" + blocks.length + " blocks x 2 x " + CudaOutOfMemoryException.mib(bytes) + ")");
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public float[][] prefill(int[][] tokens) {
        if (closed) throw new IllegalStateException("session was closed");
        if (tokens.length != batch) throw new IllegalArgumentException("session has batch " + batch + ", got " + tokens.length + " sequences");
        int n = tokens[0].length;
        if (n == 0) throw new IllegalArgumentException("no tokens to append");
        if (pos + n > maxLen) throw new IllegalStateException("KV cache full: " + pos + " + " + n + " positions > maxLen " + maxLen);
        try (CudaActivations x = (CudaActivations) model.embed(tokens)) {
            for (int i = 0; i < blocks.length; i++) model.block(blocks[i], x, batch, n, pos, caches[i]);
            pos += n;
            return model.lastLogits(x);
        }
    }

    @Override
    public int position() { return pos; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        dev.makeCurrent();
        for (CudaLoadedModel.KvCache c : caches) {
            if (c == null) continue;
            dev.free(c.k);
            dev.free(c.v);
        }
    }
}
