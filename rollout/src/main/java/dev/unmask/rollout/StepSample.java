package dev.unmask.rollout;

/**
 * One decision of one episode, as the trainer needs it: the window the policy saw (features,
 * key bias, eligibility), what it sampled there (without the fallback), the log-probability of
 * that sample under the behaviour policy, and the value estimate (PPO) at that state.
 */
public record StepSample(float[] features, float[] keyBias, boolean[] eligible, boolean[] sampled, double logProb, float value) {
}
