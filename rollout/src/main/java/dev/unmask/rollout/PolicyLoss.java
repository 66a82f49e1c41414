package dev.unmask.rollout;

import dev.unmask.policy.PolicyNet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The clipped-surrogate objective, added to the policy's own graph. Per step (one row):
 * log pi(a|s) = sum over eligible positions of a log sigmoid(z) + (1 - a) log sigmoid(-z),
 * ratio = exp(log pi - log pi_old), and
 * <pre>
 *   loss = -mean(min(ratio A, clip(ratio, 1-eps, 1+eps) A))
 *          - entropyCoef * mean(sum of per-position Bernoulli entropies)
 *          + valueCoef * mean((V - R)^2)                     (PPO only)
 *          + klCoef * mean(exp(ref - logp) - (ref - logp) - 1) (optional KL to the reference, k3 estimator)
 * </pre>
 */
final class PolicyLoss {
    static final String ACTIONS = "actions", ELIGIBLE = "eligibleMask", OLD_LOGP = "oldLogProb", ADVANTAGES = "advantages",
            RETURNS = "returns", REF_LOGP = "refLogProb";
    static final String LOSS = "policyLoss", CLIP_FRACTION = "clipFraction", APPROX_KL = "approxKl", ENTROPY = "entropy",
            LOG_PROB = "logProb";

    private PolicyLoss() {
    }

    static void build(PolicyNet net, TrainConfig c) {
        SameDiff sd = net.graph();
        SDVariable z = sd.getVariable(PolicyNet.LOGITS); // [M, W]
        SDVariable a = sd.placeHolder(ACTIONS, DataType.FLOAT, -1, -1);
        SDVariable elig = sd.placeHolder(ELIGIBLE, DataType.FLOAT, -1, -1);
        SDVariable oldLogp = sd.placeHolder(OLD_LOGP, DataType.FLOAT, -1);
        SDVariable adv = sd.placeHolder(ADVANTAGES, DataType.FLOAT, -1);
        SDVariable logSigPos = sd.nn().softplus(z.neg()).neg(); // log sigmoid(z)
        SDVariable logSigNeg = sd.nn().softplus(z).neg();        // log sigmoid(-z)
        SDVariable perPos = a.mul(logSigPos).add(a.rsub(1.0).mul(logSigNeg)).mul(elig);
        SDVariable logp = sd.identity(LOG_PROB, perPos.sum(1));
        SDVariable ratio = sd.math().exp(logp.sub(oldLogp));
        SDVariable clipped = sd.math().clipByValue(ratio, 1 - c.clipEpsilon(), 1 + c.clipEpsilon());
        SDVariable surrogate = sd.math().min(ratio.mul(adv), clipped.mul(adv));
        SDVariable p = sd.nn().sigmoid(z);
        SDVariable entropyPerPos = p.mul(logSigPos).add(p.rsub(1.0).mul(logSigNeg)).neg().mul(elig);
        SDVariable entropy = sd.identity(ENTROPY, entropyPerPos.sum(1).mean());
        SDVariable loss = surrogate.mean().neg().sub(entropy.mul(c.entropyCoef()));
        if (c.algorithm().equals("ppo")) {
            SDVariable returns = sd.placeHolder(RETURNS, DataType.FLOAT, -1);
            SDVariable err = sd.getVariable(PolicyNet.VALUE).sub(returns);
            loss = loss.add(err.mul(err).mean().mul(c.valueCoef()));
        }
        if (c.klCoef() > 0) {
            SDVariable ref = sd.placeHolder(REF_LOGP, DataType.FLOAT, -1);
            SDVariable d = ref.sub(logp);
            loss = loss.add(sd.math().exp(d).sub(d).sub(1.0).mean().mul(c.klCoef()));
        }
        sd.identity(LOSS, loss);
        sd.setLossVariables(LOSS);
        sd.identity(CLIP_FRACTION, sd.math().abs(ratio.sub(1.0)).gt(c.clipEpsilon()).castTo(DataType.FLOAT).mean());
        sd.identity(APPROX_KL, oldLogp.sub(logp).mean());
    }
}
