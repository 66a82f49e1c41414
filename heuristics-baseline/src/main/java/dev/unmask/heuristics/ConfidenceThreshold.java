package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.Map;

/** Rule 3 (Fast-dLLM parallel decoding): every eligible position with confidence >= tau, and always the most confident one. */
public final class ConfidenceThreshold implements UnmaskPolicy {
    private final double tau;

    public ConfidenceThreshold(double tau) {
        if (!(tau >= 0 && tau <= 1)) throw new UnmaskException("threshold tau must lie in [0, 1], got " + tau);
        this.tau = tau;
    }

    @Override
    public String name() {
        return "threshold";
    }

    @Override
    public Map<String, Object> params() {
        return Map.of("tau", tau);
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        boolean[][] out = new boolean[obs.rows()][];
        for (int r = 0; r < obs.rows(); r++) {
            int[] ranked = Ranking.rank(obs, r, (o, row, i) -> o.confidence()[row][i]);
            int k = 1;
            // compare in float: confidences are floats, and 0.9f must pass tau = 0.9
            while (k < ranked.length && obs.confidence()[r][ranked[k]] >= (float) tau) k++;
            out[r] = Ranking.take(obs.genLength(), ranked, k);
        }
        return out;
    }
}
