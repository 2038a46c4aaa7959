package sleb.backend.cuda;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.backend.Activations;
import sleb.backend.DecodeSession;
import sleb.model.ModelConfig;

/**
 * Incremental decoding on one device: an fp32 KV cache [batch][maxLen][kvDim] per block that runs.
 *
 * A one-token step launches about eleven kernels and GEMMs per block; for small models and batches
 * their launch cost exceeds the work. So the first {@link #step} records the whole step (embedding,
 * every block, final norm, lm_head) into a CUDA graph and later steps replay it: one launch per token.
 * A replay reuses the captured arguments, so everything that changes between steps lives in device
 * memory the graph reads: the token ids, and the position (the kernels' pos_dev argument). Prefill
 * (several positions at once) runs eagerly. One position handed in as hidden states (a part of a model
 * split over devices, {@link #appendHidden}) replays a second graph of the blocks alone. If capture
 * fails, the session says so once and decodes eagerly; {@code -Dsleb.cuda.graphs=off} turns graphs off.
 */
final class CudaDecodeSession implements DecodeSession {
    static boolean graphsByDefault() { return !"off".equals(System.getProperty("sleb.cuda.graphs")); }

    private final CudaLoadedModel model;
    private final CudaDevice dev;
    private final int batch, maxLen;
    private final int[] blocks;
    private final CudaLoadedModel.KvCache[] caches;
    private int pos;
    private boolean closed;

    private boolean graphs;
    private CudaDriver.Graph graph, blocksGraph;
    private CUdeviceptr stepIds, stepPos, stepLogits;
    private CudaActivations stepX;
    private CudaLoadedModel.Workspace stepWs;

    CudaDecodeSession(CudaLoadedModel model, CudaDevice dev, int batch, int maxLen, int[] blocks, boolean graphs) {
        this.model = model;
        this.dev = dev;
        this.batch = batch;
        this.maxLen = maxLen;
        this.blocks = blocks.clone();
        this.graphs = graphs;
        ModelConfig cfg = model.config();
        if (batch <= 0 || maxLen <= 0) throw new IllegalArgumentException("batch and maxLen must be positive");
        caches = new CudaLoadedModel.KvCache[blocks.length];
        long bytes = 4L * batch * maxLen * cfg.kvDim();
        try {
            for (int i = 0; i < blocks.length; i++) {
                CudaLoadedModel.KvCache c = new CudaLoadedModel.KvCache();
                c.maxLen = maxLen;
                caches[i] = c;
                String what = "KV cache of block " + blocks[i] + " (" + blocks.length + " blocks x 2 x " + CudaOutOfMemoryException.mib(bytes) + ")";
                c.k = dev.alloc(bytes, what);
                c.v = dev.alloc(bytes, what);
            }
            model.ensureRope(maxLen); // before any capture: a graph must not see the table move (OPT: maxLen fits its position table)
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("session was closed");
        dev.makeCurrent();
    }

    @Override
    public float[][] prefill(int[][] tokens) {
        checkOpen();
        checkAppend(tokens.length, 0);
        if (tokens[0].length == 0) throw new IllegalArgumentException("no tokens to append");
        try (Activations x = model.embed(tokens, pos)) {
            appendHidden(x);
            return model.lastLogits(x);
        }
    }

    @Override
    public void appendHidden(Activations xa) {
        checkOpen();
        CudaActivations x = model.act(xa);
        int n = x.seqLen();
        checkAppend(x.batch(), n);
        if (n == 0) return;
        if (n == 1 && graphs && appendOneByGraph(x)) {
            pos++;
            return;
        }
        try (CudaLoadedModel.Workspace ws = model.new Workspace(batch * n)) {
            for (int i = 0; i < blocks.length; i++) model.block(blocks[i], x, batch, n, pos, CudaDevice.NULL, caches[i], ws);
        }
        pos += n;
    }

    /** n more positions for `sequences` sequences fit this session. */
    private void checkAppend(int sequences, int n) {
        if (sequences != batch) throw new IllegalArgumentException("session has batch " + batch + ", got " + sequences + " sequences");
        if (pos + n > maxLen) throw new IllegalStateException("KV cache full: " + pos + " + " + n + " positions > maxLen " + maxLen);
    }

    @Override
    public float[][] step(int[] tokens) {
        checkOpen();
        if (!graphs) return DecodeSession.super.step(tokens);
        checkAppend(tokens.length, 1);
        for (int id : tokens) model.checkToken(id);
        if (stepIds == null) allocateStepBuffers();
        dev.upload(stepIds, Pointer.to(tokens), 4L * batch);
        dev.upload(stepPos, Pointer.to(new int[] {pos}), 4);
        if (graph == null && (graph = tryCapture(this::recordStep)) == null) return DecodeSession.super.step(tokens);
        dev.replay(graph);
        int vocab = model.config().vocabSize;
        float[] flat = dev.downloadFloats(stepLogits, batch * vocab);
        pos++;
        float[][] out = new float[batch][];
        for (int b = 0; b < batch; b++) out[b] = java.util.Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab);
        return out;
    }

    /** One position's hidden states x through the blocks by graph replay; false (decode eagerly) if capture failed. */
    private boolean appendOneByGraph(CudaActivations x) {
        if (stepIds == null) allocateStepBuffers();
        if (blocksGraph == null && (blocksGraph = tryCapture(this::recordBlocks)) == null) return false;
        long bytes = 4L * batch * model.config().dim;
        dev.upload(stepPos, Pointer.to(new int[] {pos}), 4);
        dev.copy(stepX.ptr(), x.ptr(), bytes);
        dev.replay(blocksGraph);
        dev.copy(x.ptr(), stepX.ptr(), bytes);
        return true;
    }

    private CudaDriver.Graph tryCapture(Runnable work) {
        try {
            return dev.capture(work);
        } catch (CudaException e) {
            graphs = false;
            System.err.println("sleb: CUDA graph capture failed (" + GpuDriver.oneLine(e) + "); decoding without graphs");
            return null;
        }
    }

    /** What a step replay does: launches only, reading ids and position from stepIds / stepPos. */
    private void recordStep() {
        model.embedInto(stepIds, batch, 1, 0, stepPos, stepX.ptr(), stepWs);
        recordBlocks();
        model.logitsInto(stepX.ptr(), batch, stepWs, stepLogits);
    }

    /** The blocks over stepX at position *stepPos. */
    private void recordBlocks() {
        for (int i = 0; i < blocks.length; i++) model.block(blocks[i], stepX, batch, 1, 0, stepPos, caches[i], stepWs);
    }

    private void allocateStepBuffers() {
        stepIds = dev.alloc(4L * batch, "decode step token ids");
        stepPos = dev.alloc(4, "decode step position");
        stepLogits = dev.alloc(4L * batch * model.config().vocabSize, "decode step logits");
        stepX = new CudaActivations(dev, batch, 1, model.config().dim);
        stepWs = model.new Workspace(batch);
    }

    /** Whether steps replay a captured graph (false once capture has failed or when graphs are off). */
    boolean usesGraphs() { return graphs; }

    @Override
    public int position() { return pos; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        dev.makeCurrent();
        dev.destroy(graph);
        dev.destroy(blocksGraph);
        graph = blocksGraph = null;
        for (CudaLoadedModel.KvCache c : caches) {
            if (c == null) continue;
            dev.free(c.k);
            dev.free(c.v);
        }
        dev.free(stepIds);
        dev.free(stepPos);
        dev.free(stepLogits);
        if (stepX != null) stepX.close();
        if (stepWs != null) stepWs.close();
    }
}
