package sleb.util;

import java.util.Locale;

/** Numbers for people: a statistic that could not be computed (NaN, e.g. a standard error from one sample) reads "n/a". */
public final class Format {
    private Format() {}

    /** String.format(Locale.ROOT, format, v), or "n/a" when v is NaN. */
    public static String orNa(String format, double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, format, v);
    }
}
