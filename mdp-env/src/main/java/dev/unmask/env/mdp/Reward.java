package dev.unmask.env.mdp;

import dev.unmask.env.UnmaskException;

/**
 * Multiplicative, correctness first: r = correct * (1 - speedWeight * (NFE - 1) / (L - 1)).
 * A wrong answer earns 0 however fast; a correct one earns 1 when decoded in a single step and
 * 1 - speedWeight when decoded one token per step (NFE = L).
 *
 * <p>Default speedWeight 0.5: the slowest correct answer is still worth half of the fastest, so
 * a policy gains by going faster only while it keeps answers right (losing one answer in ten costs
 * as much as the whole speed bonus of a 20% NFE cut at full budget).
 */
public record Reward(double speedWeight) {
    public static final Reward DEFAULT = new Reward(0.5);

    public Reward {
        if (!(speedWeight >= 0 && speedWeight <= 1)) throw new UnmaskException("reward speed weight must lie in [0, 1], got " + speedWeight);
    }

    public double of(boolean correct, int nfe, int genLength) {
        if (!correct) return 0;
        return 1 - speedWeight * (nfe - 1) / Math.max(1.0, genLength - 1);
    }

    /** What {@link #of} computes, with this speed weight filled in; correct is 1 or 0, L the buffer length. */
    public String formula() {
        return "correct * (1 - " + speedWeight + " * (nfe - 1) / max(1, L - 1))";
    }
}
