package dev.unmask.cli;

import java.io.PrintStream;

/** A one-line progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
final class Progress {
    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private final boolean tty = System.console() != null;
    private final PrintStream out = System.err;
    private final long startDone;
    private int lastDecile = -1;

    Progress(String label, long total) {
        this(label, total, 0);
    }

    /** A bar that starts part way (a resumed run): the ETA counts only the work done by this process. */
    Progress(String label, long total, long alreadyDone) {
        this.label = label;
        this.total = Math.max(1, total);
        this.startDone = alreadyDone;
    }

    void update(long done, String extra) {
        double frac = Math.min(1.0, (double) done / total);
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long doneHere = done - startDone;
        double eta = doneHere <= 0 ? 0 : elapsed * (total - done) / doneHere;
        int width = 24, filled = (int) Math.round(frac * width);
        String line = String.format("%-14s [%s%s] %3.0f%% %d/%d  %s  elapsed %s eta %s", label, "#".repeat(filled),
                ".".repeat(width - filled), frac * 100, done, total, extra == null ? "" : extra, fmt(elapsed), fmt(eta));
        int decile = (int) (frac * 10);
        if (tty) {
            out.print("\r" + line);
            if (done >= total) out.println();
        } else if (decile != lastDecile || done >= total) {
            out.println(line);
        }
        lastDecile = decile;
        out.flush();
    }

    static String fmt(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
