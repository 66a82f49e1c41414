package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rule 7 (KLASS, KL-adaptive stability sampling): an eligible position is ready when its
 * confidence exceeds {@code conf} and the KL divergence between its predictive distributions at
 * consecutive steps has stayed below {@code kl} for the last {@code history} steps. Every ready
 * position is unmasked; when none is ready the step falls back to LLaDA's top-k schedule with a
 * budget of {@code steps} (rule 2). A position seen fewer than history + 1 times is never ready,
 * so the first steps of a block always use the schedule.
 *
 * <p>KL direction: KL(p_now || p_before), the change the latest forward pass made; the spec leaves
 * it open and the two directions agree to first order for the small changes the threshold admits.
 */
public final class Klass implements UnmaskPolicy {
    private final double confThreshold, klThreshold;
    private final int history, steps;

    public Klass(double confThreshold, double klThreshold, int history, int steps) {
        if (!(confThreshold >= 0 && confThreshold <= 1)) throw new UnmaskException("klass: conf must lie in [0, 1], got " + confThreshold);
        if (!(klThreshold >= 0)) throw new UnmaskException("klass: kl must be >= 0, got " + klThreshold);
        if (history < 1 || history > 16) throw new UnmaskException("klass: history must be a whole number of steps in 1..16, got " + history);
        if (steps < 1) throw new UnmaskException("klass: fallback step budget must be positive, got " + steps);
        this.confThreshold = confThreshold;
        this.klThreshold = klThreshold;
        this.history = history;
        this.steps = steps;
    }

    @Override
    public String name() {
        return "klass";
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("conf", confThreshold);
        p.put("kl", klThreshold);
        p.put("history", history);
        p.put("steps", steps);
        return p;
    }

    @Override
    public int klHistory() {
        return history;
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        if (obs.recentKl() == null) throw new UnmaskException("klass needs the environment to track KL history (UnmaskingEnv.trackKl)");
        Ranking.requireBudgetFitsBlocks(obs, steps);
        boolean[][] out = new boolean[obs.rows()][obs.genLength()];
        for (int r = 0; r < obs.rows(); r++) {
            int ready = 0;
            for (int i = 0; i < obs.genLength(); i++) {
                if (obs.eligible()[r][i] && isReady(obs, r, i)) {
                    out[r][i] = true;
                    ready++;
                }
            }
            if (ready == 0) {
                int[] ranked = Ranking.rank(obs, r, (o, row, i) -> o.confidence()[row][i]);
                out[r] = Ranking.take(obs.genLength(), ranked, Ranking.scheduled(obs, r, steps));
            }
        }
        return out;
    }

    private boolean isReady(StepObservation obs, int row, int pos) {
        if (!(obs.confidence()[row][pos] > (float) confThreshold)) return false;
        float[] kl = obs.recentKl()[row][pos];
        if (kl.length < history) return false;
        for (int h = 0; h < history; h++) {
            if (!(kl[h] < klThreshold)) return false; // NaN (not observed often enough) is not stable
        }
        return true;
    }
}
