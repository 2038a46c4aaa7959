package sleb.tokenizer;

import java.util.Arrays;

/** Growable int array. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) { a = new int[Math.max(4, capacity)]; }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, n * 2);
        a[n++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int size() { return n; }

    int[] toArray() { return Arrays.copyOf(a, n); }
}
