package sleb.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * KV-cached decoding of a model split over devices: the blocks to run are cut into runs of consecutive
 * blocks on one device, each run keeps a session (and KV cache) on its device, and the hidden state of
 * the new positions goes from one run to the next through host memory, as in the split forward pass.
 */
final class SplitDecodeSession implements DecodeSession {
    private final SplitLoadedModel model;
    private final int batch, maxLen;
    private final int[] runPart;
    private final DecodeSession[] runs;
    private int pos;

    SplitDecodeSession(SplitLoadedModel model, LoadedModel[] parts, int[] owner, int batch, int maxLen, int[] blocks) {
        this.model = model;
        this.batch = batch;
        this.maxLen = maxLen;
        List<Integer> partOfRun = new ArrayList<>();
        List<int[]> blocksOfRun = new ArrayList<>();
        for (int i = 0; i < blocks.length; ) {
            int j = i;
            while (j < blocks.length && owner[blocks[j]] == owner[blocks[i]]) j++;
            partOfRun.add(owner[blocks[i]]);
            blocksOfRun.add(Arrays.copyOfRange(blocks, i, j));
            i = j;
        }
        runPart = partOfRun.stream().mapToInt(Integer::intValue).toArray();
        runs = new DecodeSession[runPart.length];
        try {
            for (int r = 0; r < runs.length; r++) runs[r] = parts[runPart[r]].newSession(batch, maxLen, blocksOfRun.get(r));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public float[][] prefill(int[][] tokens) {
        if (tokens.length != batch) throw new IllegalArgumentException("session has batch " + batch + ", got " + tokens.length + " sequences");
        if (tokens[0].length == 0) throw new IllegalArgumentException("no tokens to append");
        try (Activations x = model.embed(tokens, pos)) {
            appendHidden(x);
            return model.lastLogits(x);
        }
    }

    @Override
    public void appendHidden(Activations x) {
        int n = x.seqLen();
        if (pos + n > maxLen) throw new IllegalStateException("KV cache full: " + pos + " + " + n + " positions > maxLen " + maxLen);
        SplitLoadedModel.SplitActivations s = model.split(x);
        for (int r = 0; r < runs.length; r++) runs[r].appendHidden(model.on(s, runPart[r]));
        pos += n;
    }

    @Override
    public int position() { return pos; }

    @Override
    public void close() {
        for (DecodeSession s : runs) if (s != null) s.close();
    }
}
