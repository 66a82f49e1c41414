package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.Reward;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Lagrange multipliers of a knob-as-budget run (TrainConfig's {@code knobReward: budget}): the
 * range [lo, hi] of target NFEs (budgetCentre + the knob range) is cut into {@code bins} equal bins, each with its own
 * multiplier lambda_b >= 0. A rollout with budget B in bin b is rewarded
 * {@link Reward#budget} = correct - lambda_b (NFE - B) / B. After each iteration every bin that had
 * rollouts takes one projected dual-ascent step on the constraint "mean NFE <= B":
 * lambda_b <- max(0, lambda_b + step * mean over the bin's rollouts of (NFE - B) / B). A bin whose
 * rollouts overrun their budgets is penalised harder next time; one that stays under relaxes to 0
 * (plain correctness). The multipliers are part of the trainer's state (saved and resumed with it).
 */
public final class BudgetMultipliers {
    private final double lo, hi, step;
    private final double[] lambda;

    public BudgetMultipliers(double lo, double hi, int bins, double initial, double step) {
        if (!(lo > 0) || !(hi >= lo) || !Double.isFinite(hi)) throw new UnmaskException("an NFE budget range must be [lo, hi] with 0 < lo <= hi, got [" + lo + ", " + hi + "]");
        if (bins < 1) throw new UnmaskException("budgetBins must be >= 1, got " + bins);
        this.lo = lo;
        this.hi = hi;
        this.step = step;
        this.lambda = new double[bins];
        Arrays.fill(lambda, initial);
    }

    /** The multipliers of a config with {@code knobReward: budget}. */
    static BudgetMultipliers of(TrainConfig c) {
        return new BudgetMultipliers(c.budgetOf(c.knobRange().get(0)), c.budgetOf(c.knobRange().get(1)), c.budgetBins(), c.budgetMultiplier(), c.budgetDualStep());
    }

    /** The bin of a budget: floor((B - lo) / (hi - lo) * bins), hi in the last bin, values outside the range in the nearest one. */
    public int bin(double budget) {
        if (hi == lo) return 0;
        int b = (int) Math.floor((budget - lo) / (hi - lo) * lambda.length);
        return Math.max(0, Math.min(lambda.length - 1, b));
    }

    public double multiplier(double budget) {
        return lambda[bin(budget)];
    }

    /** Each rollout's reward under the current multipliers. */
    public double[] rewards(boolean[] correct, int[] nfe, float[] budgets) {
        double[] r = new double[correct.length];
        for (int i = 0; i < r.length; i++) r[i] = Reward.budget(correct[i], nfe[i], budgets[i], multiplier(budgets[i]));
        return r;
    }

    /** One projected dual-ascent step per bin that had rollouts (see the class comment); a bin without any keeps its multiplier. */
    public void update(int[] nfe, float[] budgets) {
        double[] overrun = new double[lambda.length];
        int[] count = new int[lambda.length];
        for (int i = 0; i < nfe.length; i++) {
            int b = bin(budgets[i]);
            overrun[b] += (nfe[i] - (double) budgets[i]) / budgets[i];
            count[b]++;
        }
        for (int b = 0; b < lambda.length; b++) if (count[b] > 0) lambda[b] = Math.max(0, lambda[b] + step * overrun[b] / count[b]);
    }

    public List<Double> values() {
        List<Double> out = new ArrayList<>();
        for (double l : lambda) out.add(l);
        return out;
    }

    /** Restores saved multipliers (one per bin). */
    public void restore(List<Double> saved) {
        if (saved.size() != lambda.length) throw new UnmaskException("trainer state holds " + saved.size() + " budget multipliers, the config has " + lambda.length + " budgetBins");
        for (int b = 0; b < lambda.length; b++) lambda[b] = saved.get(b);
    }
}
