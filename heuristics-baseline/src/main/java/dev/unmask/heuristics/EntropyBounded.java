package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.Map;

/**
 * Rule 6 (EB-Sampler): positions sorted by entropy ascending; accept the longest prefix k >= 1
 * with sum of its entropies minus their maximum <= gamma.
 */
public final class EntropyBounded implements UnmaskPolicy {
    private final double gamma;

    public EntropyBounded(double gamma) {
        if (!(gamma >= 0)) throw new UnmaskException("entropy bound gamma must be >= 0, got " + gamma);
        this.gamma = gamma;
    }

    @Override
    public String name() {
        return "eb";
    }

    @Override
    public Map<String, Object> params() {
        return Map.of("gamma", gamma);
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        boolean[][] out = new boolean[obs.rows()][];
        for (int r = 0; r < obs.rows(); r++) {
            int[] ranked = Ranking.rank(obs, r, (o, row, i) -> -o.entropy()[row][i]);
            double sum = obs.entropy()[r][ranked[0]], max = sum;
            int k = 1;
            while (k < ranked.length) {
                double h = obs.entropy()[r][ranked[k]];
                // sorted ascending, so the prefix maximum is the newest entry
                if (sum + h - Math.max(max, h) > gamma) break;
                sum += h;
                max = Math.max(max, h);
                k++;
            }
            out[r] = Ranking.take(obs.genLength(), ranked, k);
        }
        return out;
    }
}
