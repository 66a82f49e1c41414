package dev.unmask.rollout;

import dev.unmask.env.io.Json;
import java.util.Random;

/**
 * Times one minibatch's gradient (the policy's forward and backward through the clipped
 * objective; no optimizer step) with each {@code policyUpdate}, on a random minibatch of the
 * config's shape, for {@code unmask bench --policy-update}. Speed is measured, never asserted.
 */
public final class PolicyUpdateTiming {
    private PolicyUpdateTiming() {
    }

    /** One minibatch's gradient with the given policyUpdate, on a fixed random minibatch of {@code rows} steps over {@code width} positions. */
    public static Runnable oneGradient(TrainConfig base, String policyUpdate, int rows, int width) {
        TrainConfig c = withUpdate(base, policyUpdate);
        PolicyTrainer trainer = new PolicyTrainer(c, null);
        FastPolicyGradients.Minibatch mb = randomMinibatch(c, trainer, rows, width, new Random(5));
        return () -> trainer.gradients(mb);
    }

    /** As above for a fast update ({@code fast} or {@code fast-eligible}) on {@code threads} threads. */
    public static Runnable oneGradient(TrainConfig base, String policyUpdate, int rows, int width, int threads) {
        TrainConfig c = withUpdate(base, policyUpdate);
        PolicyTrainer trainer = new PolicyTrainer(c, null);
        FastPolicyGradients.Minibatch mb = randomMinibatch(c, trainer, rows, width, new Random(5));
        FastPolicyGradients update = new FastPolicyGradients(trainer.net().config(), c, threads);
        return () -> trainer.gradients(update, mb);
    }

    /**
     * Matrix-product flops of one gradient (2 per multiply-add): the forward's embedding, four
     * projections, MLP, attention scores and mixing, head; the backward counted as twice the forward.
     */
    public static double flopsPerGradient(TrainConfig c, int rows, int width) {
        double d = c.dModel(), f = c.features().size(), positions = (double) rows * width;
        double forward = positions * (2 * f * d + 4 * 2 * d * d + 2 * 2 * d * c.ffDim() + 2 * 2 * width * d + 2 * d);
        return 3 * forward;
    }

    private static TrainConfig withUpdate(TrainConfig c, String update) {
        var node = Json.MAPPER.valueToTree(c);
        ((com.fasterxml.jackson.databind.node.ObjectNode) node).put("policyUpdate", update);
        try {
            return Json.MAPPER.treeToValue(node, TrainConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Random features, a third of the positions ineligible, actions at 20%, ratios near 1: what a rollout batch looks like to the update. */
    private static FastPolicyGradients.Minibatch randomMinibatch(TrainConfig c, PolicyTrainer trainer, int rows, int width, Random rng) {
        int f = trainer.net().config().parsedFeatures().size();
        float[] feats = new float[rows * width * f], keyBias = new float[rows * width], actions = new float[rows * width], elig = new float[rows * width];
        for (int i = 0; i < feats.length; i++) feats[i] = (float) rng.nextGaussian();
        boolean wholeBuffer = trainer.net().config().seesWholeBuffer();
        for (int i = 0; i < rows * width; i++) {
            boolean eligible = i % width == 0 || rng.nextDouble() < 0.67;
            elig[i] = eligible ? 1f : 0f;
            if (!eligible && !wholeBuffer) keyBias[i] = -1e9f;
            actions[i] = eligible && rng.nextDouble() < 0.2 ? 1f : 0f;
        }
        float[] oldLogp = new float[rows], adv = new float[rows], ret = new float[rows], ref = new float[rows], w = new float[rows];
        for (int r = 0; r < rows; r++) {
            oldLogp[r] = (float) (-5 + rng.nextGaussian());
            adv[r] = (float) rng.nextGaussian();
            ret[r] = (float) rng.nextDouble();
            ref[r] = oldLogp[r];
            w[r] = 1f / rows;
        }
        boolean ppo = c.algorithm().equals("ppo");
        return new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, oldLogp, adv, ppo ? ret : null,
                c.klCoef() > 0 ? ref : null, c.lossNormalisation().equals(TrainConfig.PER_STEP) ? null : w);
    }
}
