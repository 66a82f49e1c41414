package dev.unmask.policy;

import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * The learned policy's decision rule, on plain arrays so the ND4J policy and the ONNX runtimes
 * share it (and therefore decide identically): each eligible position is taken with probability
 * p = sigmoid(logit / temperature), drawn from the episode's stream (sample) or p >= 0.5
 * (greedy). When nothing is taken, the position with the highest logit is (lowest index on ties):
 * compared on the logit, not on p, so that runtimes whose sigmoid rounds differently (ONNX Runtime's
 * float32 {@code unmask_prob}, PyTorch) cannot pick different positions.
 *
 * @param sampled  what the Bernoulli draws (or the greedy rule) chose, before the fallback
 * @param fallback the window index unmasked because nothing was chosen, or -1
 * @param logProb  log-probability of {@code sampled} under the policy (what PPO/GRPO train on)
 */
public record BernoulliDecision(boolean[] sampled, int fallback, double logProb) {

    /** Window indices to unmask: the sample, or the fallback alone. */
    public boolean[] taken() {
        if (fallback < 0) return sampled;
        boolean[] t = new boolean[sampled.length];
        t[fallback] = true;
        return t;
    }

    public static BernoulliDecision decide(float[] logits, int offset, int width, IntPredicate eligible, double temperature,
                                           boolean sample, SplittableRandom rng) {
        boolean[] sampled = new boolean[width];
        double logProb = 0;
        float bestLogit = Float.NEGATIVE_INFINITY;
        int best = -1, chosen = 0;
        for (int j = 0; j < width; j++) {
            if (!eligible.test(j)) continue;
            double z = logits[offset + j] / temperature;
            double p = 1 / (1 + Math.exp(-z));
            boolean take = sample ? rng.nextDouble() < p : p >= 0.5;
            if (take) {
                sampled[j] = true;
                chosen++;
            }
            logProb += take ? logSigmoid(z) : logSigmoid(-z);
            if (best < 0 || logits[offset + j] > bestLogit) {
                bestLogit = logits[offset + j];
                best = j;
            }
        }
        return new BernoulliDecision(sampled, chosen == 0 ? best : -1, logProb);
    }

    /**
     * log-probability at temperature 1 of drawing exactly {@code sampled} over the eligible
     * positions (an empty draw included: the fallback that follows it is deterministic).
     */
    public static double logProbability(float[] logits, boolean[] eligible, boolean[] sampled) {
        double lp = 0;
        for (int j = 0; j < eligible.length; j++) if (eligible[j]) lp += sampled[j] ? logSigmoid(logits[j]) : logSigmoid(-logits[j]);
        return lp;
    }

    /** log(sigmoid(z)) without overflow. */
    static double logSigmoid(double z) {
        return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
    }
}
