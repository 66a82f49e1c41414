package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Places each learned policy's (accuracy, NFE) point against the heuristics' curves of the same
 * configuration (task, buffer length, block length): the best heuristic that spends no more NFE,
 * and the cheapest heuristic that is at least as accurate. "Separated" means the 95% intervals
 * do not overlap, the only difference we call real. Because this project's own rule ({@code frontier})
 * is not one a user would otherwise have, each learned point is also placed against the best
 * published rule alone (every heuristic but {@code frontier}).
 */
public final class HeadToHead {
    private HeadToHead() {
    }

    /** One learned row against the heuristics of its configuration. */
    public record Verdict(EvalRow learned, Optional<EvalRow> bestAtNoMoreNfe, Optional<EvalRow> cheapestAtNoLessAccuracy,
                          Optional<EvalRow> bestPublishedAtNoMoreNfe) {
        /**
         * Learned is more accurate than every heuristic that spends no more NFE, with intervals apart.
         * False when no heuristic spends as few NFE: there is nothing to be separated from.
         */
        public boolean moreAccurateSeparated() {
            return bestAtNoMoreNfe.map(h -> learned.accCiLow() > h.accCiHigh()).orElse(false);
        }

        /** "yes", "no", or that no heuristic spends as few NFE (then accuracy was not compared at all). */
        public String separatedLabel() {
            return separatedFrom(bestAtNoMoreNfe, "heuristic");
        }

        /** Learned needs fewer NFE than every heuristic that is at least as accurate. */
        public boolean fewerNfe() {
            return cheapestAtNoLessAccuracy.map(h -> learned.meanNfe() < h.meanNfe()).orElse(true);
        }

        /** As {@link #separatedLabel()}, against the best published rule (not this project's {@code frontier}). */
        public String publishedSeparatedLabel() {
            return separatedFrom(bestPublishedAtNoMoreNfe, "published rule");
        }

        private String separatedFrom(Optional<EvalRow> rival, String kind) {
            if (rival.isEmpty()) return String.format(Locale.ROOT, "no %s at <= %.1f NFE", kind, learned.meanNfe());
            return learned.accCiLow() > rival.get().accCiHigh() ? "yes" : "no";
        }

        /** Accuracy gap to the best heuristic at no more NFE (positive = learned ahead). */
        public double accuracyGap() {
            return bestAtNoMoreNfe.map(h -> learned.accuracy() - h.accuracy()).orElse(Double.NaN);
        }
    }

    public static boolean isLearned(EvalRow r) {
        return r.policy().startsWith("learned");
    }

    /** This project's own rule, not a published one (README, "Policy specs"). */
    public static boolean isProjectRule(EvalRow r) {
        return r.policy().equals("frontier");
    }

    public static List<Verdict> compare(List<EvalRow> rows) {
        List<Verdict> out = new ArrayList<>();
        for (EvalRow l : rows) {
            if (!isLearned(l)) continue;
            List<EvalRow> h = rows.stream().filter(r -> !isLearned(r) && r.task().equals(l.task()) && r.genLength() == l.genLength()
                    && r.blockLength() == l.blockLength()).toList();
            Optional<EvalRow> cheapest = h.stream().filter(r -> r.accuracy() >= l.accuracy()).min(Comparator.comparingDouble(EvalRow::meanNfe));
            out.add(new Verdict(l, bestAtNoMoreNfe(h, l), cheapest, bestAtNoMoreNfe(h.stream().filter(r -> !isProjectRule(r)).toList(), l)));
        }
        return out;
    }

    private static Optional<EvalRow> bestAtNoMoreNfe(List<EvalRow> heuristics, EvalRow learned) {
        return heuristics.stream().filter(r -> r.meanNfe() <= learned.meanNfe())
                .max(Comparator.comparingDouble(EvalRow::accuracy).thenComparing(Comparator.comparingDouble(EvalRow::meanNfe).reversed()));
    }

    private static String accuracyAt(EvalRow h) {
        return String.format(Locale.ROOT, "%.3f [%.3f, %.3f] @ %.1f", h.accuracy(), h.accCiLow(), h.accCiHigh(), h.meanNfe());
    }

    public static String markdown(List<Verdict> verdicts) {
        StringBuilder md = new StringBuilder("| config | learned | acc [95% CI] @ NFE | best heuristic at <= NFE | its acc [95% CI] @ NFE | separated | "
                + "cheapest heuristic at >= acc | its NFE | best published rule at <= NFE | its acc [95% CI] @ NFE | separated from it |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Verdict v : verdicts) {
            EvalRow l = v.learned();
            md.append(String.format(Locale.ROOT, "| %s L=%d %s | %s | %.3f [%.3f, %.3f] @ %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    l.task(), l.genLength(), l.mode().equals("full") ? "full" : "B=" + l.blockLength(), l.policyParams(),
                    l.accuracy(), l.accCiLow(), l.accCiHigh(), l.meanNfe(),
                    v.bestAtNoMoreNfe().map(EvalRow::policyParams).orElse("none"),
                    v.bestAtNoMoreNfe().map(HeadToHead::accuracyAt).orElse("-"),
                    v.separatedLabel(),
                    v.cheapestAtNoLessAccuracy().map(EvalRow::policyParams).orElse("none"),
                    v.cheapestAtNoLessAccuracy().map(h -> String.format(Locale.ROOT, "%.1f", h.meanNfe())).orElse("-"),
                    v.bestPublishedAtNoMoreNfe().map(EvalRow::policyParams).orElse("none"),
                    v.bestPublishedAtNoMoreNfe().map(HeadToHead::accuracyAt).orElse("-"),
                    v.publishedSeparatedLabel()));
        }
        return md.toString();
    }
}
