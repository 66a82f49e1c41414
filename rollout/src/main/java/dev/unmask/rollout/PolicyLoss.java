package dev.unmask.rollout;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The clipped-surrogate objective, added to a graph that computes per-position logits z [M, W]
 * (and, for PPO, a value per row). Per step (one row):
 * log pi(a|s) = sum over eligible positions of a log sigmoid(z) + (1 - a) log sigmoid(-z)
 * (an all-zero row is an empty draw, after which the fallback is deterministic: its probability is
 * the empty draw's), ratio = exp(log pi - log pi_old), and with avg over the minibatch's steps
 * (a plain mean for {@code lossNormalisation = step}, else the weighted mean with the
 * {@value #STEP_WEIGHTS} placeholder, weights summing to 1):
 * <pre>
 *   loss = -avg(min(ratio A, clip(ratio, 1-eps, 1+eps) A))
 *          - entropyCoef * avg(sum of per-position Bernoulli entropies)
 *          + valueCoef * avg((V - R)^2)                                 (PPO only)
 *          + klCoef * avg(exp(ref - logp) - (ref - logp) - 1)           (k3 estimate of KL(pi || pi_ref), when klCoef > 0)
 * </pre>
 * Placeholders take the logits' data type, so tests can run the same objective in double.
 *
 * <p>SameDiff's backward of {@code min} passes the gradient to both arguments where they are equal,
 * and they are equal wherever the ratio lies inside the clip range (the clipped ratio is the ratio):
 * there this graph's surrogate gradient is twice the true one, while outside the range it is right.
 * Every run made with {@code policyUpdate: samediff} trained with that weighting (with Adam's scale
 * invariance it mostly halves the entropy, value and KL terms against the surrogate), and it is kept
 * so those runs replay; {@link FastPolicyGradients} computes the true gradient.
 */
final class PolicyLoss {
    static final String ACTIONS = "actions", ELIGIBLE = "eligibleMask", OLD_LOGP = "oldLogProb", ADVANTAGES = "advantages",
            RETURNS = "returns", REF_LOGP = "refLogProb", STEP_WEIGHTS = "stepWeights";
    static final String LOSS = "policyLoss", CLIP_FRACTION = "clipFraction", APPROX_KL = "approxKl", ENTROPY = "entropy",
            LOG_PROB = "logProb", KL_TO_REFERENCE = "klToReference";

    private PolicyLoss() {
    }

    /**
     * @param z     per-position logits [M, W]
     * @param value the critic's value per row [M]; used only for PPO
     */
    static void build(SameDiff sd, SDVariable z, SDVariable value, TrainConfig c) {
        DataType t = z.dataType();
        boolean weighted = !c.lossNormalisation().equals(TrainConfig.PER_STEP);
        SDVariable a = sd.placeHolder(ACTIONS, t, -1, -1);
        SDVariable elig = sd.placeHolder(ELIGIBLE, t, -1, -1);
        SDVariable oldLogp = sd.placeHolder(OLD_LOGP, t, -1);
        SDVariable adv = sd.placeHolder(ADVANTAGES, t, -1);
        SDVariable w = weighted ? sd.placeHolder(STEP_WEIGHTS, t, -1) : null;
        SDVariable logSigPos = sd.nn().softplus(z.neg()).neg(); // log sigmoid(z)
        SDVariable logSigNeg = sd.nn().softplus(z).neg();        // log sigmoid(-z)
        SDVariable perPos = a.mul(logSigPos).add(a.rsub(1.0).mul(logSigNeg)).mul(elig);
        SDVariable logp = sd.identity(LOG_PROB, perPos.sum(1));
        SDVariable ratio = sd.math().exp(logp.sub(oldLogp));
        SDVariable clipped = sd.math().clipByValue(ratio, 1 - c.clipEpsilon(), 1 + c.clipEpsilon());
        SDVariable surrogate = sd.math().min(ratio.mul(adv), clipped.mul(adv));
        SDVariable p = sd.nn().sigmoid(z);
        SDVariable entropyPerPos = p.mul(logSigPos).add(p.rsub(1.0).mul(logSigNeg)).neg().mul(elig);
        SDVariable entropy = sd.identity(ENTROPY, average(entropyPerPos.sum(1), w));
        SDVariable loss = average(surrogate, w).neg().sub(entropy.mul(c.entropyCoef()));
        if (c.algorithm().equals("ppo")) {
            SDVariable returns = sd.placeHolder(RETURNS, t, -1);
            SDVariable err = value.sub(returns);
            loss = loss.add(average(err.mul(err), w).mul(c.valueCoef()));
        }
        if (c.klCoef() > 0) {
            SDVariable ref = sd.placeHolder(REF_LOGP, t, -1);
            SDVariable d = ref.sub(logp);
            SDVariable kl = sd.identity(KL_TO_REFERENCE, average(sd.math().exp(d).sub(d).sub(1.0), w));
            loss = loss.add(kl.mul(c.klCoef()));
        }
        sd.identity(LOSS, loss);
        sd.setLossVariables(LOSS);
        sd.identity(CLIP_FRACTION, sd.math().abs(ratio.sub(1.0)).gt(c.clipEpsilon()).castTo(t).mean());
        sd.identity(APPROX_KL, oldLogp.sub(logp).mean());
    }

    /** The per-step average the loss uses: a plain mean, or the weighted sum when weights are given. */
    private static SDVariable average(SDVariable perStep, SDVariable weights) {
        return weights == null ? perStep.mean() : perStep.mul(weights).sum();
    }
}
