package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * This project's own rule, not a published one: a confidence threshold whose bar rises with the
 * masked positions to the left. A position passes when ln(c / (1 - c)) >= ln(tau / (1 - tau)) + slope * m / L,
 * m being the masked buffer positions left of it; always the most confident eligible one. At the
 * left-most masked position (m = 0) it is the threshold rule; further right a token needs more
 * confidence, so in full diffusion an early EOS run or a digit written before the digits it
 * depends on is held back (a soft semi-autoregressive order). slope 0 is threshold:tau, except for a
 * confidence within rounding of tau (compared here in double log-odds, there in float). It is the
 * rule a fresh learned policy starts as with initThreshold and initFrontierSlope.
 */
public final class FrontierThreshold implements UnmaskPolicy {
    private final double tau, slope;
    /** false: always also the most confident eligible position; true: only when none passes, the one nearest its bar */
    private final boolean nearestBarFallback;

    public FrontierThreshold(double tau, double slope) {
        this(tau, slope, false);
    }

    public FrontierThreshold(double tau, double slope, boolean nearestBarFallback) {
        if (!(tau > 0 && tau < 1)) throw new UnmaskException("frontier tau must lie in (0, 1), got " + tau);
        if (!(slope >= 0)) throw new UnmaskException("frontier slope must be >= 0, got " + slope);
        this.tau = tau;
        this.slope = slope;
        this.nearestBarFallback = nearestBarFallback;
    }

    @Override
    public String name() {
        return "frontier";
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("tau", tau);
        p.put("slope", slope);
        if (nearestBarFallback) p.put("fallback", 1.0); // left out at its default, so older rows keep their labels
        return p;
    }

    /** ln(c / (1 - c)) with 1 - c floored at 1e-6, as the learned policy's confidence_logodds feature. */
    static double logOdds(float c) {
        return Math.log(c / Math.max(1e-6, 1.0 - c));
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        double bar0 = Math.log(tau / (1 - tau));
        boolean[][] out = new boolean[obs.rows()][];
        for (int r = 0; r < obs.rows(); r++) {
            out[r] = new boolean[obs.genLength()];
            int maskedBefore = 0, mostConfident = -1, nearestBar = -1;
            double bestMargin = Double.NEGATIVE_INFINITY;
            boolean anyPassed = false;
            for (int i = 0; i < obs.genLength(); i++) {
                if (obs.eligible()[r][i]) {
                    float c = obs.confidence()[r][i];
                    double margin = logOdds(c) - (bar0 + slope * maskedBefore / obs.genLength());
                    if (margin >= 0) out[r][i] = anyPassed = true;
                    if (mostConfident < 0 || c > obs.confidence()[r][mostConfident]) mostConfident = i; // ties: the lower position
                    if (margin > bestMargin) {
                        bestMargin = margin;
                        nearestBar = i;
                    }
                }
                if (obs.masked()[r][i]) maskedBefore++;
            }
            if (nearestBarFallback) {
                if (!anyPassed && nearestBar >= 0) out[r][nearestBar] = true;
            } else if (mostConfident >= 0) {
                out[r][mostConfident] = true;
            }
        }
        return out;
    }
}
