package sleb.backend;

import sleb.model.ModelConfig;

/**
 * A model whose blocks live on several devices in layer order (`--device cuda:0,1`): each part holds a
 * contiguous range of blocks plus the embedding and output layers, and hidden states move to the next
 * device when a block lives there. Works over any backend's parts, which is how it is tested on the CPU.
 */
public final class SplitLoadedModel implements LoadedModel {
    private final Backend backend;
    private final LoadedModel[] parts;
    private final int[] owner;

    /** @param owner owner[layer] = index of the part holding that block */
    public SplitLoadedModel(Backend backend, LoadedModel[] parts, int[] owner) {
        this.backend = backend;
        this.parts = parts.clone();
        this.owner = owner.clone();
    }

    /** Contiguous, equal-sized ranges of blocks in layer order: owner[layer] for {@code devices} parts. */
    public static int[] layerOrder(int layers, int devices) {
        int[] o = new int[layers];
        for (int l = 0; l < layers; l++) o[l] = (int) ((long) l * devices / layers);
        return o;
    }

    /** Hidden states that remember which part they are on. */
    static final class SplitActivations implements Activations {
        int part;
        Activations inner;

        SplitActivations(int part, Activations inner) {
            this.part = part;
            this.inner = inner;
        }

        @Override public int batch() { return inner.batch(); }
        @Override public int seqLen() { return inner.seqLen(); }
        @Override public int dim() { return inner.dim(); }
        @Override public float[] toHost() { return inner.toHost(); }
        @Override public void close() { inner.close(); }
    }

    SplitActivations split(Activations x) {
        if (!(x instanceof SplitActivations)) throw new IllegalArgumentException("activations do not belong to this split model");
        return (SplitActivations) x;
    }

    /** Moves x to part p through host memory (simple and exact; the copy is small next to a block's work). */
    Activations on(SplitActivations x, int p) {
        if (x.part != p) {
            Activations moved = parts[p].fromHost(x.inner.toHost(), x.batch(), x.seqLen());
            x.inner.close();
            x.inner = moved;
            x.part = p;
        }
        return x.inner;
    }

    @Override public ModelConfig config() { return parts[0].config(); }
    @Override public Backend backend() { return backend; }

    @Override
    public Activations embed(int[][] tokens) { return new SplitActivations(0, parts[0].embed(tokens)); }

    @Override
    public Activations embed(int[][] tokens, int pos0) { return new SplitActivations(0, parts[0].embed(tokens, pos0)); }

    @Override
    public void runBlock(int layer, Activations x) {
        int p = owner[layer];
        parts[p].runBlock(layer, on(split(x), p));
    }

    @Override
    public double[] nll(Activations x, int[][] tokens) {
        SplitActivations s = split(x);
        return parts[s.part].nll(s.inner, tokens);
    }

    @Override
    public float[][] positionNll(Activations x, int[][] tokens) {
        SplitActivations s = split(x);
        return parts[s.part].positionNll(s.inner, tokens);
    }

    @Override
    public float[][] positionNll(Activations x, int[][] tokens, int from) {
        SplitActivations s = split(x);
        return parts[s.part].positionNll(s.inner, tokens, from);
    }

    @Override
    public float[][] lastLogits(Activations x) {
        SplitActivations s = split(x);
        return parts[s.part].lastLogits(s.inner);
    }

    @Override
    public Activations copy(Activations x) {
        SplitActivations s = split(x);
        return new SplitActivations(s.part, parts[s.part].copy(s.inner));
    }

    @Override
    public Activations fromHost(float[] data, int batch, int seqLen) { return new SplitActivations(0, parts[0].fromHost(data, batch, seqLen)); }

    @Override
    public double[] cosineSum(Activations a, Activations b) {
        SplitActivations x = split(a), y = split(b);
        return parts[x.part].cosineSum(x.inner, on(y, x.part));
    }

    /** The cached states spread over the parts with their blocks; the smallest part's budget bounds each share. */
    @Override
    public long defaultCacheBytes() {
        long min = Long.MAX_VALUE;
        for (LoadedModel p : parts) min = Math.min(min, p.defaultCacheBytes());
        return min;
    }

    /** Each part runs the whole batch through its blocks: the part with the least free memory bounds it. */
    @Override
    public long freeWorkingBytes() {
        long min = Long.MAX_VALUE;
        for (LoadedModel p : parts) min = Math.min(min, p.freeWorkingBytes());
        return min;
    }

    @Override
    public long freeWorkingBytesAfterCollection() {
        long min = Long.MAX_VALUE;
        for (LoadedModel p : parts) min = Math.min(min, p.freeWorkingBytesAfterCollection());
        return min;
    }

    @Override public String freeWorkingBytesHint() { return parts[0].freeWorkingBytesHint(); }

    @Override
    public DecodeSession newSession(int batch, int maxLen, int[] blocks) {
        for (int b : blocks)
            if (b < 0 || b >= owner.length) throw new IllegalArgumentException("block " + b + " does not exist (0.." + (owner.length - 1) + ")");
        return new SplitDecodeSession(this, parts, owner, batch, maxLen, blocks);
    }

    @Override
    public void close() {
        for (LoadedModel m : parts) m.close();
    }
}
