package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trained network behind the same interface as the heuristics. Each eligible position is
 * unmasked independently with probability sigmoid(logit / temperature): sampled (a Bernoulli per
 * position, from the episode's own random stream) or greedy (probability >= 0.5). When nothing is
 * chosen, the position with the highest logit is (lowest position on ties), so the policy
 * never leans on the environment's fallback; it reports those steps on the observation so they
 * are counted as fallbacks all the same.
 */
public final class LearnedPolicy implements UnmaskPolicy {
    private final PolicyModel net;
    private final double temperature;
    private final boolean sample;
    private final String label;
    /** The knob for every episode (evaluation), or NaN; and per episode id (training), or null. */
    private double knob = Double.NaN;
    private float[] knobByEpisode;
    private boolean allowEmpty;

    /**
     * What the policy did at one step for one row: {@code action} over buffer positions (with the
     * fallback applied), {@code sampled} over the window (without it), and the log-probability of
     * exactly that sample under the policy (the fallback is deterministic given an empty sample).
     */
    public record Decision(boolean[] action, boolean[] sampled, boolean fallback, double logProb) {
    }

    /** All rows of one step, with the window the network saw and, when asked, its value estimates. */
    public record StepDecisions(PolicyWindow window, Decision[] decisions, float[] values) {
    }

    public LearnedPolicy(PolicyModel net, double temperature, boolean sample, String label) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) throw new UnmaskException("policy temperature must be > 0, got " + temperature);
        this.net = net;
        this.temperature = temperature;
        this.sample = sample;
        this.label = label;
    }

    public PolicyModel net() {
        return net;
    }

    /**
     * Training as in the paper's code: an empty sample stays empty (the environment, told with
     * {@code UnmaskingEnv.allowEmptySteps}, spends the step and writes nothing) instead of taking
     * the most probable position. The log-probability is that of the empty sample either way.
     */
    public LearnedPolicy allowEmptySteps(boolean allow) {
        this.allowEmpty = allow;
        return this;
    }

    /**
     * A copy of this policy with every episode's knob set to {@code value} (evaluation); the rows'
     * label carries knob=value. This policy is left as it was; the copy shares its network.
     */
    public LearnedPolicy withKnob(double value) {
        // an alpha knob is >= 0, a budget knob (an offset from the run's budgetCentre) may be below 0; the trained range is checked where the spec is read
        if (!Double.isFinite(value)) throw new UnmaskException("policy knob must be a finite number, got " + value);
        LearnedPolicy copy = new LearnedPolicy(net, temperature, sample, label);
        copy.knob = value;
        copy.knobByEpisode = knobByEpisode;
        copy.allowEmpty = allowEmpty;
        return copy;
    }

    /** This policy with a knob per episode id, as the environment numbers episodes (training: drawn per prompt). */
    public LearnedPolicy withEpisodeKnobs(float[] byEpisode) {
        this.knobByEpisode = byEpisode.clone();
        return this;
    }

    @Override
    public boolean readsHidden() {
        return net.config().parsedFeatures().stream().anyMatch(PolicyFeatures::isHidden);
    }

    @Override
    public String name() {
        return "learned";
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("policy", label);
        p.put("temp", temperature);
        p.put("mode", sample ? "sample" : "greedy");
        if (net.runtime() != null) p.put("runtime", net.runtime());
        if (!Double.isNaN(knob)) p.put("knob", knob);
        return p;
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        Decision[] d = decide(obs);
        boolean[][] out = new boolean[d.length][];
        for (int r = 0; r < d.length; r++) out[r] = d[r].action();
        return out;
    }

    /** Decisions over buffer positions for every row, with their log-probabilities. */
    public Decision[] decide(StepObservation obs) {
        return decideAll(obs, false).decisions();
    }

    public StepDecisions decideAll(StepObservation obs, boolean withValues) {
        float[] knobs = null;
        if (knobByEpisode != null || !Double.isNaN(knob)) {
            knobs = new float[obs.rows()];
            for (int r = 0; r < knobs.length; r++) knobs[r] = knobByEpisode != null ? knobByEpisode[obs.episodeIds()[r]] : (float) knob;
        }
        PolicyWindow win = net.window(obs, knobs);
        PolicyModel.Output fwd = net.forward(win, withValues);
        float[][] logits = fwd.logits();
        Decision[] out = new Decision[win.rows()];
        for (int r = 0; r < win.rows(); r++) {
            boolean[] eligible = win.eligible()[r];
            BernoulliDecision d = BernoulliDecision.decide(logits[r], 0, win.width(), j -> eligible[j], temperature, sample, obs.rng()[r]);
            boolean stayEmpty = allowEmpty && d.fallback() >= 0;
            boolean[] action = new boolean[obs.genLength()], taken = stayEmpty ? d.sampled() : d.taken();
            for (int j = 0; j < win.width(); j++) if (taken[j]) action[win.blockStart()[r] + j] = true;
            out[r] = new Decision(action, d.sampled(), d.fallback() >= 0 && !stayEmpty, d.logProb());
            if (d.fallback() >= 0 && !stayEmpty) obs.fallbacks().report(r);
        }
        return new StepDecisions(win, out, fwd.values());
    }
}
