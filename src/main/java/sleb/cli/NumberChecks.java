package sleb.cli;

import sleb.util.UsageException;

/**
 * Range checks of numeric flags: an out-of-range value is refused with the allowed range, never read as
 * "all" or "auto" (those are what leaving the flag out means).
 */
public final class NumberChecks {
    private NumberChecks() {}

    /** v itself when it is null (flag not given) or at least min; else a UsageException naming the range. */
    public static Integer atLeast(String flag, Integer v, int min) {
        if (v != null && v < min) throw new UsageException(flag + " must be at least " + min + ", got " + v + rangeHint(min));
        return v;
    }

    /** As {@link #atLeast(String, Integer, int)} for a flag without a default: the message does not suggest leaving it out. */
    public static Integer atLeastNoDefault(String flag, Integer v, int min) {
        if (v != null && v < min) throw new UsageException(flag + " must be at least " + min + ", got " + v);
        return v;
    }

    public static Long atLeast(String flag, Long v, long min) {
        if (v != null && v < min) throw new UsageException(flag + " must be at least " + min + ", got " + v + rangeHint(min));
        return v;
    }

    /** v when null or within [min, max]. */
    public static Integer between(String flag, Integer v, int min, int max) {
        if (v != null && (v < min || v > max)) throw new UsageException(flag + " must be between " + min + " and " + max + ", got " + v);
        return v;
    }

    /** v when null or strictly positive (and finite). */
    public static Double positive(String flag, Double v) {
        if (v != null && !(v > 0 && v < Double.POSITIVE_INFINITY)) throw new UsageException(flag + " must be a positive number, got " + v);
        return v;
    }

    private static String rangeHint(long min) { return min >= 1 ? " (leave the flag out for its default)" : ""; }
}
