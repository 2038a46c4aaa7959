package sleb.util;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
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
                .setConsumer(System.console() != null ? new ConsoleProgressBarConsumer(System.err) : throttledLines())
                .showSpeed()
                .build();
        return new Progress(b);
    }

    /** Without a terminal (logs, CI) carriage returns pile up into one huge line: print a plain line every 15 s instead. */
    private static DelegatingProgressBarConsumer throttledLines() {
        long[] last = {0};
        return new DelegatingProgressBarConsumer(line -> {
            long now = System.nanoTime();
            if (now - last[0] < 15_000_000_000L) return;
            last[0] = now;
            System.err.println(line.trim());
        });
    }

    public static Progress none() { return new Progress(null); }

    public void step(long n) { if (bar != null) bar.stepBy(n); }

    public void stepTo(long n) { if (bar != null) bar.stepTo(n); }

    @Override
    public void close() { if (bar != null) bar.close(); }
}
