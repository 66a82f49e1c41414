package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.Map;

/**
 * Rule 4 (Fast-dLLM factor rule): with confidences sorted descending, accept the largest n such
 * that (m + 1)(1 - c(m)) <= f for every rank m <= n (1-based); the top one always.
 *
 * <p>Decided at the confidence's own precision, as {@link ConfidenceThreshold} does: rank m is
 * accepted when c(m) >= 1 - f/(m + 1) with that bound rounded to the nearest float. A dLLM's
 * confidence is a float, so 0.9f stands for 0.9 and meets the bound of f = 0.3 at rank 2 exactly;
 * multiplying out in double would turn it into 0.8999999762 and reject it.
 */
public final class FactorRule implements UnmaskPolicy {
    private final double factor;

    public FactorRule(double factor) {
        if (!(factor > 0)) throw new UnmaskException("factor f must be positive, got " + factor);
        this.factor = factor;
    }

    @Override
    public String name() {
        return "factor";
    }

    @Override
    public Map<String, Object> params() {
        return Map.of("f", factor);
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        boolean[][] out = new boolean[obs.rows()][];
        for (int r = 0; r < obs.rows(); r++) {
            int[] ranked = Ranking.rank(obs, r, (o, row, i) -> o.confidence()[row][i]);
            int n = 1;
            while (n < ranked.length && obs.confidence()[r][ranked[n]] >= bound(n + 1)) n++;
            out[r] = Ranking.take(obs.genLength(), ranked, n);
        }
        return out;
    }

    /** The least confidence accepted at 1-based rank m, rounded to float (the confidences' precision). */
    float bound(int rank) {
        return (float) (1 - factor / (rank + 1));
    }
}
