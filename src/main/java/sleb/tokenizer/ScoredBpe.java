package sleb.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * Score-driven BPE as llama2.c and SentencePiece's BPE model do it: repeatedly merge the adjacent pair
 * whose merged piece has the highest score, the leftmost pair among equals, until no pair merges.
 * run.c rescans the whole sequence per merge (quadratic); a heap over a linked list picks the same
 * pair each time in n log n, because nodes keep the index of their first symbol, so "leftmost" is
 * the smallest index among live candidates. Pieces may be any strings (bytes as ISO-8859-1 chars, or
 * Unicode text): a pair merges when the concatenation of its two pieces is itself a piece.
 */
public final class ScoredBpe {
    private final LongIntMap mergedOf;
    private final float[] scores;

    /**
     * @param pieces token pieces; null for tokens that are never the result of a merge
     * @param scores merge priority per token
     * @param idOf   id of each piece that can take part in a merge
     */
    public ScoredBpe(String[] pieces, float[] scores, Map<String, Integer> idOf) {
        this.scores = scores;
        mergedOf = new LongIntMap(pieces.length * 2);
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null || p.length() < 2) continue;
            for (int k = 1; k < p.length(); k++) {
                Integer a = idOf.get(p.substring(0, k));
                Integer b = idOf.get(p.substring(k));
                // Two pieces cannot both be the concatenation a+b; keep the first id, as a string lookup would.
                if (a != null && b != null && mergedOf.get(key(a, b)) < 0) mergedOf.put(key(a, b), id);
            }
        }
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xffffffffL); }

    /** Returns the merged id of the pair, or -1. */
    public int merge(int a, int b) { return mergedOf.get(key(a, b)); }

    /**
     * Heap key: higher score first, then lower left index. Scores map to ints that order like the floats
     * (-0.0 folded into 0.0, since run.c compares with >); the key is positive, 32 bits of score then 31 of index.
     */
    private long heapKey(int merged, int left) {
        int bits = Float.floatToIntBits(scores[merged] + 0.0f);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        long descending = 0x7fffffffL - ordered;
        return (descending << 31) | left;
    }

    public int[] apply(int[] symbols) {
        int n = symbols.length;
        if (n < 2) return symbols.clone();
        int[] tok = symbols.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            int m = merge(tok[i], tok[i + 1]);
            if (m >= 0) heap.push(heapKey(m, i));
        }
        while (!heap.isEmpty()) {
            long k = heap.pop();
            int i = (int) (k & 0x7fffffff);
            int j = next[i];
            if (tok[i] < 0 || j < 0) continue;
            int m = merge(tok[i], tok[j]);
            // A stale entry is skipped unless the pair now at i has the same key, in which case its own entry is an equal minimum.
            if (m < 0 || heapKey(m, i) != k) continue;
            tok[i] = m;
            tok[j] = -1;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            if (prev[i] >= 0) {
                int mp = merge(tok[prev[i]], m);
                if (mp >= 0) heap.push(heapKey(mp, prev[i]));
            }
            if (next[i] >= 0) {
                int mn = merge(m, tok[next[i]]);
                if (mn >= 0) heap.push(heapKey(mn, i));
            }
        }
        int[] out = new int[n];
        int c = 0;
        for (int i = 0; i >= 0; i = next[i]) out[c++] = tok[i];
        return Arrays.copyOf(out, c);
    }

    /** Binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) { a = new long[Math.max(16, capacity)]; }

        boolean isEmpty() { return size == 0; }

        void push(long v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (v <= a[c]) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }

    /** Open-addressing map from long keys to non-negative ints; get returns -1 when absent. */
    private static final class LongIntMap {
        private long[] keys;
        private int[] vals;
        private int size, mask;

        LongIntMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
            keys = new long[cap];
            vals = new int[cap];
            Arrays.fill(vals, -1);
            mask = cap - 1;
        }

        private int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32)) & mask;
        }

        int get(long k) {
            for (int i = slot(k); ; i = (i + 1) & mask) {
                if (vals[i] < 0) return -1;
                if (keys[i] == k) return vals[i];
            }
        }

        void put(long k, int v) {
            if ((size + 1) * 2 > keys.length) grow();
            for (int i = slot(k); ; i = (i + 1) & mask) {
                if (vals[i] < 0) {
                    keys[i] = k;
                    vals[i] = v;
                    size++;
                    return;
                }
                if (keys[i] == k) {
                    vals[i] = v;
                    return;
                }
            }
        }

        private void grow() {
            long[] ok = keys;
            int[] ov = vals;
            keys = new long[ok.length * 2];
            vals = new int[ok.length * 2];
            Arrays.fill(vals, -1);
            mask = keys.length - 1;
            size = 0;
            for (int i = 0; i < ok.length; i++) if (ov[i] >= 0) put(ok[i], ov[i]);
        }
    }
}
