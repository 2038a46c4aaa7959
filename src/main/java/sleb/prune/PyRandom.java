package sleb.prune;

import java.util.List;

/**
 * CPython's {@code random.Random}: MT19937 seeded as {@code random.seed(int)} does (init_by_array over the
 * 32-bit words of |seed|, least significant first), with {@code getrandbits}, {@code randint},
 * {@code random()} and {@code shuffle} as CPython 3 computes them. {@code random.seed(S)} followed by the
 * same calls gives the same numbers here and in Python.
 */
public final class PyRandom {
    private static final int N = 624, M = 397;
    private final int[] mt = new int[N];
    private int mti;

    public PyRandom(long seed) { seed(seed); }

    private PyRandom() {}

    /**
     * The same MT19937 seeded as C++'s {@code std::mt19937(seed)} is (init_genrand, not Python's init_by_array); only
     * {@link #nextInt32()} is meant for it (llama.cpp's HellaSwag task order draws from such a generator).
     */
    public static PyRandom cppMt19937(int seed) {
        PyRandom r = new PyRandom();
        r.initGenrand(seed);
        return r;
    }

    /** random.seed(seed) for an int seed (Python uses abs(seed)). */
    public void seed(long seed) {
        long n = seed == Long.MIN_VALUE ? Long.MIN_VALUE : Math.abs(seed); // MIN_VALUE: |seed| = 2^63, read unsigned below
        int[] key;
        if (n == 0) {
            key = new int[] {0};
        } else {
            int words = (64 - Long.numberOfLeadingZeros(n) + 31) / 32;
            key = new int[words];
            for (int i = 0; i < words; i++) key[i] = (int) (n >>> (32 * i));
        }
        initByArray(key);
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < N; mti++) mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1, j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) j = 0;
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000;
    }

    /** genrand_uint32, as an unsigned value in an int. */
    public int nextInt32() {
        if (mti >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            for (; kk < N - 1; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            int y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            mti = 0;
        }
        int y = mt[mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** random.getrandbits(k) for 0 <= k <= 63: 32-bit words filled from the least significant end. */
    public long getrandbits(int k) {
        if (k < 0 || k > 63) throw new IllegalArgumentException("k must be in 0..63");
        if (k == 0) return 0;
        if (k <= 32) return (nextInt32() & 0xffffffffL) >>> (32 - k);
        long r = 0;
        int shift = 0;
        for (int left = k; left > 0; left -= 32, shift += 32) {
            long w = nextInt32() & 0xffffffffL;
            if (left < 32) w >>>= (32 - left);
            r |= w << shift;
        }
        return r;
    }

    /** _randbelow_with_getrandbits(n): rejection sampling on n.bit_length() bits. */
    public long randbelow(long n) {
        if (n <= 0) throw new IllegalArgumentException("empty range for randbelow(" + n + ")");
        int k = 64 - Long.numberOfLeadingZeros(n);
        long r = getrandbits(k);
        while (r >= n) r = getrandbits(k);
        return r;
    }

    /** random.randint(a, b), both ends included. */
    public long randint(long a, long b) {
        if (b < a) throw new IllegalArgumentException("empty range for randint(" + a + ", " + b + ")");
        return a + randbelow(b - a + 1);
    }

    /** random.random(): 53 random bits as (a*2^26 + b) / 2^53. */
    public double random() {
        long a = (nextInt32() & 0xffffffffL) >>> 5, b = (nextInt32() & 0xffffffffL) >>> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /** random.shuffle(x): Fisher-Yates from the end, j = randbelow(i + 1). */
    public <T> void shuffle(List<T> x) {
        for (int i = x.size() - 1; i > 0; i--) {
            int j = (int) randbelow(i + 1);
            T t = x.get(i);
            x.set(i, x.get(j));
            x.set(j, t);
        }
    }
}
