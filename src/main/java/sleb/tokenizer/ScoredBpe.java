package sleb.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Score-driven BPE as llama2.c and SentencePiece's BPE model do it: repeatedly merge the adjacent pair
 * whose merged piece has the highest score, the leftmost pair among equals, until no pair merges.
 * run.c rescans the whole sequence per merge (quadratic); a heap over a linked list picks the same
 * pair each time in n log n, because nodes keep the index of their first symbol, so "leftmost" is
 * the smallest index among live candidates.
 */
public final class ScoredBpe {
    private final Map<Long, Integer> mergedOf = new HashMap<>();
    private final float[] scores;

    /**
     * @param pieces token pieces as byte strings (ISO-8859-1 chars, one per byte); null for tokens that
     *               are never the result of a merge
     * @param scores merge priority per token
     */
    public ScoredBpe(String[] pieces, float[] scores, Map<String, Integer> idOf) {
        this.scores = scores;
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null || p.length() < 2) continue;
            for (int k = 1; k < p.length(); k++) {
                Integer a = idOf.get(p.substring(0, k));
                Integer b = idOf.get(p.substring(k));
                if (a != null && b != null) {
                    long key = key(a, b);
                    Integer prev = mergedOf.get(key);
                    // Two pieces cannot both be the concatenation a+b; keep the first id, as a string lookup would.
                    if (prev == null) mergedOf.put(key, id);
                }
            }
        }
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xffffffffL); }

    /** Returns the merged id of the pair, or -1. */
    public int merge(int a, int b) {
        Integer m = mergedOf.get(key(a, b));
        return m == null ? -1 : m;
    }

    public int[] apply(int[] symbols) {
        int n = symbols.length;
        if (n < 2) return symbols.clone();
        int[] tok = symbols.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Candidate: (score, left index, left token, right token) - stale entries are skipped on pop.
        PriorityQueue<long[]> heap = new PriorityQueue<>(Math.max(16, n), (x, y) -> {
            int c = Float.compare(Float.intBitsToFloat((int) y[0]), Float.intBitsToFloat((int) x[0]));
            return c != 0 ? c : Long.compare(x[1], y[1]);
        });
        for (int i = 0; i + 1 < n; i++) push(heap, i, tok[i], tok[i + 1]);
        while (!heap.isEmpty()) {
            long[] c = heap.poll();
            int i = (int) c[1];
            if (dead[i]) continue;
            int j = next[i];
            if (j < 0 || tok[i] != (int) c[2] || tok[j] != (int) c[3]) continue;
            int m = merge(tok[i], tok[j]);
            tok[i] = m;
            dead[j] = true;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            if (prev[i] >= 0) push(heap, prev[i], tok[prev[i]], tok[i]);
            if (next[i] >= 0) push(heap, i, tok[i], tok[next[i]]);
        }
        int[] out = new int[n];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) out[k++] = tok[i];
        return Arrays.copyOf(out, k);
    }

    private void push(PriorityQueue<long[]> heap, int left, int a, int b) {
        int m = merge(a, b);
        if (m < 0) return;
        heap.add(new long[] {Float.floatToRawIntBits(scores[m]), left, a, b});
    }
}
