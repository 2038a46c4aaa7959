package sleb.util;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar with ETA on stderr (me.tongfei:progressbar), or nothing when quiet. */
public final class Progress implements AutoCloseable {
    private static volatile boolean quiet = Boolean.getBoolean("sleb.quiet");
    private final ProgressBar bar;

    private Progress(ProgressBar bar) { this.bar = bar; }

    public static void setQuiet(boolean q) { quiet = q; }

    public static Progress start(String task, long total, String unit) {
        if (quiet) return new Progress(null);
        ProgressBar b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" " + unit, 1)
                .setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .showSpeed()
                .build();
        return new Progress(b);
    }

    public static Progress none() { return new Progress(null); }

    public void step(long n) { if (bar != null) bar.stepBy(n); }

    public void stepTo(long n) { if (bar != null) bar.stepTo(n); }

    public void extra(String msg) { if (bar != null) bar.setExtraMessage(msg); }

    @Override
    public void close() { if (bar != null) bar.close(); }
}
