package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rules 1, 2 and 5 of the spec: a fixed budget of S steps in total (S / numBlocks per block), each
 * step unmasking the scheduled number of positions with the best score: confidence (LLaDA
 * low-confidence remasking), margin or negative entropy (Dream), or chosen uniformly at random.
 * NFE = S exactly whenever every block has at least S / numBlocks masked positions.
 */
public final class ScheduledTopK implements UnmaskPolicy {
    public enum Score { CONFIDENCE, MARGIN, ENTROPY, RANDOM }

    private final Score score;
    private final int steps;

    public ScheduledTopK(Score score, int steps) {
        if (steps <= 0) throw new UnmaskException("step budget must be positive, got " + steps);
        this.score = score;
        this.steps = steps;
    }

    @Override
    public String name() {
        return switch (score) {
            case CONFIDENCE -> "topk";
            case MARGIN -> "margin";
            case ENTROPY -> "entropy";
            case RANDOM -> "random";
        };
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("steps", steps);
        return p;
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        Ranking.requireBudgetFitsBlocks(obs, steps);
        boolean[][] out = new boolean[obs.rows()][];
        for (int r = 0; r < obs.rows(); r++) {
            int k = Ranking.scheduled(obs, r, steps);
            int[] ranked = switch (score) {
                case CONFIDENCE -> Ranking.rank(obs, r, (o, row, i) -> o.confidence()[row][i]);
                case MARGIN -> Ranking.rank(obs, r, (o, row, i) -> o.margin()[row][i]);
                case ENTROPY -> Ranking.rank(obs, r, (o, row, i) -> -o.entropy()[row][i]);
                case RANDOM -> shuffled(obs, r);
            };
            out[r] = Ranking.take(obs.genLength(), ranked, k);
        }
        return out;
    }

    private static int[] shuffled(StepObservation obs, int row) {
        int[] idx = Ranking.rank(obs, row, (o, rr, i) -> 0);
        var rng = obs.rng()[row];
        for (int i = idx.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }
}
