package dev.unmask.env.mdp;

import dev.unmask.env.UnmaskException;

/**
 * Multiplicative, correctness first: a wrong answer earns 0 however fast. Two forms:
 * <ul>
 *   <li>linear (ours, the default): r = correct * (1 - speedWeight * (NFE - 1) / (L - 1)); a correct
 *   answer earns 1 when decoded in a single step and 1 - speedWeight when decoded one token per step.
 *   Default speedWeight 0.5: the slowest correct answer is still worth half of the fastest, so a
 *   policy gains by going faster only while it keeps answers right (losing one answer in ten costs
 *   as much as the whole speed bonus of a 20% NFE cut at full budget);</li>
 *   <li>alpha (Jazbec et al.'s released code): r = correct * ((L - min(NFE, L) + 1) / L)^alpha;
 *   alpha = 0 is plain correctness, a larger alpha favours speed more.</li>
 * </ul>
 *
 * @param alpha NaN for the linear form
 */
public record Reward(double speedWeight, double alpha) {
    public static final Reward DEFAULT = new Reward(0.5);

    public Reward {
        if (!(speedWeight >= 0 && speedWeight <= 1)) throw new UnmaskException("reward speed weight must lie in [0, 1], got " + speedWeight);
        if (!Double.isNaN(alpha) && !(alpha >= 0 && Double.isFinite(alpha))) throw new UnmaskException("reward alpha must be a finite number >= 0, got " + alpha);
    }

    /** The linear form with this speed weight. */
    public Reward(double speedWeight) {
        this(speedWeight, Double.NaN);
    }

    /** The paper's form with this exponent. */
    public static Reward alpha(double alpha) {
        if (Double.isNaN(alpha)) throw new UnmaskException("reward alpha must be a finite number >= 0, got NaN");
        return new Reward(0, alpha);
    }

    public boolean isAlpha() {
        return !Double.isNaN(alpha);
    }

    public double of(boolean correct, int nfe, int genLength) {
        if (!correct) return 0;
        if (isAlpha()) return Math.pow((genLength - Math.min(nfe, genLength) + 1) / (double) genLength, alpha);
        return 1 - speedWeight * (nfe - 1) / Math.max(1.0, genLength - 1);
    }

    /**
     * The reward of a knob-conditioned training run (TrainConfig's knobRange): the alpha form with
     * each prompt's own exponent, drawn uniformly from [lo, hi] and given to the policy as its knob.
     */
    public static String knobFormula(double lo, double hi) {
        return "correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt uniformly from [" + lo + ", " + hi + "]";
    }

    /**
     * The reward of a knob-conditioned run whose knob is a target NFE (TrainConfig's knobReward
     * budget): correctness minus a Lagrange multiplier times the relative overrun of the budget,
     * correct - multiplier * (nfe - budget) / budget. The term is signed (an answer under its budget
     * earns a little more), the Lagrangian of "maximise accuracy subject to mean NFE <= budget".
     */
    public static double budget(boolean correct, int nfe, double budget, double multiplier) {
        if (!(budget > 0) || !Double.isFinite(budget)) throw new UnmaskException("an NFE budget must be a finite number > 0, got " + budget);
        if (!(multiplier >= 0) || !Double.isFinite(multiplier)) throw new UnmaskException("a budget multiplier must be a finite number >= 0, got " + multiplier);
        return (correct ? 1 : 0) - multiplier * (nfe - budget) / budget;
    }

    /** What {@link #budget} computes, for a provenance: the knob range and how the multipliers are set. */
    public static String budgetFormula(double lo, double hi, String multipliers) {
        return "correct - lambda * (nfe - B) / B, B = a target NFE the policy is told as its knob, drawn per prompt uniformly from [" + lo + ", " + hi + "]; lambda: " + multipliers;
    }

    /** What {@link #of} computes, with its parameter filled in; correct is 1 or 0, L the buffer length. */
    public String formula() {
        if (isAlpha()) return "correct * ((L - min(nfe, L) + 1) / L) ^ " + alpha;
        return "correct * (1 - " + speedWeight + " * (nfe - 1) / max(1, L - 1))";
    }
}
