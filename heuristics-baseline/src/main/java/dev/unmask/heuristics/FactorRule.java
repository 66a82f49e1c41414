package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.Map;

/**
 * Rule 4 (Fast-dLLM factor rule): with confidences sorted descending, accept the largest n such
 * that (m + 1)(1 - c(m)) <= f for every rank m <= n (1-based); the top one always.
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
            while (n < ranked.length && (n + 2) * (1 - obs.confidence()[r][ranked[n]]) <= factor) n++;
            out[r] = Ranking.take(obs.genLength(), ranked, n);
        }
        return out;
    }
}
