package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The three plain sentences that open the quickstart's report, built from its eval rows: what was
 * compared; what won and by how much (the learned policy against the best published rule at no
 * more NFE in full diffusion, and each published rule setting in full diffusion against blocks of
 * B); and where the learned policy's gain comes from (its start, a rule evaluated beside it, or
 * this run's training). Accuracies carry the rows' 95% Wilson intervals; a difference of two
 * accuracies carries Newcombe's interval built from them (independent prompts' samples).
 */
public final class QuickstartSummary {
    /** The rules a user would otherwise have (the papers'), as opposed to this project's {@code frontier}. */
    static final Set<String> PUBLISHED = Set.of("threshold", "factor", "eb", "topk", "margin", "entropy", "klass");

    private QuickstartSummary() {
    }

    /**
     * @param rows        the sweep's rows: learned and published rules in full diffusion and at block length {@code block},
     *                    and the learned policy's start rule ({@code startParams}) in full diffusion
     * @param block       the semi-AR block length compared with full diffusion
     * @param startParams the policy_params of the rule the learned policy was initialised as (e.g. "frontier(slope=24.0,tau=0.99)")
     * @param iterations  GRPO iterations this run trained for
     */
    public static String sentences(List<EvalRow> rows, int block, String startParams, int iterations) {
        List<EvalRow> full = rows.stream().filter(r -> r.mode().equals("full")).toList();
        EvalRow learned = full.stream().filter(HeadToHead::isLearned).findFirst()
                .orElseThrow(() -> new UnmaskException("no learned policy in full diffusion among the rows"));
        EvalRow start = full.stream().filter(r -> r.policyParams().equals(startParams)).findFirst()
                .orElseThrow(() -> new UnmaskException("no row for the policy's start " + startParams + " in full diffusion"));
        List<EvalRow> publishedFull = full.stream().filter(QuickstartSummary::isPublished).toList();
        List<EvalRow> publishedSemi = rows.stream().filter(r -> r.mode().equals("semi-ar") && r.blockLength() == block && isPublished(r)).toList();
        String families = String.join(", ", publishedFull.stream().map(EvalRow::policy).distinct().toList());

        String what = String.format(Locale.ROOT, "This run compared a policy trained with GRPO (%d iteration%s) against the published rules (%s, %d settings) "
                        + "on %d held-out test prompts of %s (L = %d), in full diffusion and in semi-AR blocks of %d, counting NFE (dLLM forward passes per answer).",
                iterations, iterations == 1 ? "" : "s", families, publishedFull.size(), learned.n(), learned.task(), learned.genLength(), block);

        Optional<EvalRow> best = publishedFull.stream().filter(r -> r.meanNfe() <= learned.meanNfe())
                .max(Comparator.comparingDouble(EvalRow::accuracy).thenComparing(Comparator.comparingDouble(EvalRow::meanNfe).reversed()));
        String won;
        if (best.isPresent()) {
            EvalRow b = best.get();
            won = String.format(Locale.ROOT, "In full diffusion the learned policy %s the best published rule at no more NFE, %s %s against %s %s, %s",
                    learned.accuracy() >= b.accuracy() ? "beat" : "lost to", acc(learned), "at " + nfe(learned) + " NFE", b.policyParams(),
                    acc(b) + " at " + nfe(b) + " NFE", diff(learned, b));
        } else {
            won = "In full diffusion no published rule spent as few NFE as the learned policy (" + acc(learned) + " at " + nfe(learned) + " NFE), so none was compared with it";
        }
        EvalRow gapSemi = null, gapFull = null;
        for (EvalRow s : publishedSemi) {
            Optional<EvalRow> f = publishedFull.stream().filter(r -> r.policyParams().equals(s.policyParams())).findFirst();
            if (f.isPresent() && (gapSemi == null || s.accuracy() - f.get().accuracy() > gapSemi.accuracy() - gapFull.accuracy())) {
                gapSemi = s;
                gapFull = f.get();
            }
        }
        if (gapSemi != null) {
            boolean lose = gapSemi.accuracy() > gapFull.accuracy();
            won += String.format(Locale.ROOT, "; and the published rules %s in full diffusion: the largest gap is %s, %s at %s NFE with blocks of %d against %s at %s NFE in full diffusion, %s.",
                    lose ? "lose accuracy" : "lose nothing", gapSemi.policyParams(), acc(gapSemi), nfe(gapSemi), block, acc(gapFull), nfe(gapFull), diff(gapSemi, gapFull));
        } else {
            won += ".";
        }

        double[] t = newcombe(learned, start);
        String source;
        if (t[1] > 0) {
            source = "part of the gain comes from this run's training";
        } else if (t[2] < 0) {
            source = "this run's training made it worse than its start";
        } else {
            source = "the gain comes from the policy's start, not from this run's training";
        }
        String where = String.format(Locale.ROOT, "The learned policy started as this project's %s rule (%s), which alone reaches %s at %s NFE here, "
                        + "and this run's %d GRPO iteration%s moved it by %s and %+.1f NFE: %s.",
                start.policy(), start.policyParams(), acc(start), nfe(start), iterations, iterations == 1 ? "" : "s",
                points(t), learned.meanNfe() - start.meanNfe(), source);
        return what + " " + won + " " + where;
    }

    static boolean isPublished(EvalRow r) {
        return PUBLISHED.contains(r.policy());
    }

    private static String acc(EvalRow r) {
        return String.format(Locale.ROOT, "%.1f%% [%.1f, %.1f]", 100 * r.accuracy(), 100 * r.accCiLow(), 100 * r.accCiHigh());
    }

    private static String nfe(EvalRow r) {
        return String.format(Locale.ROOT, "%.1f", r.meanNfe());
    }

    private static String diff(EvalRow a, EvalRow b) {
        return points(newcombe(a, b));
    }

    private static String points(double[] d) {
        return String.format(Locale.ROOT, "%+.1f points (95%% interval %+.1f to %+.1f)", 100 * d[0], 100 * d[1], 100 * d[2]);
    }

    /** a's accuracy minus b's, with Newcombe's hybrid score interval from the two rows' Wilson intervals: {difference, low, high}. */
    static double[] newcombe(EvalRow a, EvalRow b) {
        double d = a.accuracy() - b.accuracy();
        double lo = d - Math.sqrt(sq(a.accuracy() - a.accCiLow()) + sq(b.accCiHigh() - b.accuracy()));
        double hi = d + Math.sqrt(sq(a.accCiHigh() - a.accuracy()) + sq(b.accuracy() - b.accCiLow()));
        return new double[]{d, lo, hi};
    }

    private static double sq(double x) {
        return x * x;
    }
}
