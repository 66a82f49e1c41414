package dev.unmask.rollout;

import dev.unmask.policy.PolicyWindow;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code policyUpdate: fast-eligible} (the query side of the network only at the positions whose
 * outputs enter the loss, compacted) computes the full computation's objective and gradient: against
 * the one-method update ({@link ReferencePolicyGradients}, every position, full-shape products) every
 * term and every gradient agree to float rounding, over several minibatches with the weights moving
 * between them, for GRPO on the active block, GRPO on the whole buffer, and PPO with the critic and KL
 * on both. Not bit for bit: the products have other shapes, and OpenBLAS rounds them differently.
 */
class EligibleRowsGradientsTest {
    @Test
    void grpoOnTheActiveBlockAgrees() {
        compare(false, "algorithm", "grpo", "policyContext", "block", "entropyCoef", 0.02, "lossNormalisation", "episode");
    }

    @Test
    void grpoOnTheWholeBufferAgrees() {
        compare(true, "algorithm", "grpo", "policyContext", "buffer", "lossNormalisation", "episode");
    }

    @Test
    void ppoOnTheWholeBufferWithTheCriticAndKlAgrees() {
        compare(true, "algorithm", "ppo", "policyContext", "buffer", "entropyCoef", 0.01, "klCoef", 0.3, "valueCoef", 0.7,
                "lossNormalisation", "step", "clipEpsilon", 0.1);
    }

    @Test
    void ppoOnTheActiveBlockWithTheCriticAgrees() {
        compare(false, "algorithm", "ppo", "policyContext", "block", "entropyCoef", 0.01, "valueCoef", 0.7, "lossNormalisation", "step");
    }

    @Test
    void theOptInIsANewValueAndTheDefaultStaysFast() {
        assertEquals(TrainConfig.FAST_UPDATE, TrainConfig.defaults().policyUpdate());
        assertEquals(TrainConfig.FAST_ELIGIBLE_UPDATE, TrainConfigTest.with("policyUpdate", "fast-eligible").policyUpdate());
    }

    private static void compare(boolean wholeBuffer, Object... settings) {
        Random rng = new Random(5);
        GradientFixture fx = GradientFixture.of(wholeBuffer, "fast-eligible", rng, settings);
        TrainConfig config = fx.config();
        PolicyTrainer trainer = fx.trainer();
        int width = fx.width();
        Map<String, INDArray> weights = fx.weights();
        List<String> wanted = fx.wanted();
        FastPolicyGradients eligible = fx.update();
        ReferencePolicyGradients reference = fx.reference();
        double worst = 0;
        for (int rows : new int[]{7, 12, 5, 100}) {
            FastPolicyGradients.Minibatch mb = minibatch(config, trainer, rows, width, wholeBuffer, rng);
            FastPolicyGradients.Result want = reference.compute(weights, mb, wanted), got = eligible.compute(weights, mb, wanted);
            assertTrue(Double.isFinite(want.loss()), "a finite loss to compare");
            assertEquals(want.loss(), got.loss(), 1e-5 * Math.max(1, Math.abs(want.loss())), "loss");
            assertEquals(want.clipFraction(), got.clipFraction(), 0.0, "clip fraction");
            assertEquals(want.approxKl(), got.approxKl(), 1e-5 * Math.max(1, Math.abs(want.approxKl())), "approximate KL");
            assertEquals(want.entropy(), got.entropy(), 1e-5 * Math.max(1, Math.abs(want.entropy())), "entropy");
            assertEquals(want.klToReference(), got.klToReference(), 1e-5 * Math.max(1, Math.abs(want.klToReference())), "KL to the reference");
            assertEquals(want.gradients().keySet(), got.gradients().keySet());
            boolean differs = false;
            for (String name : want.gradients().keySet()) {
                float[] x = want.gradients().get(name).dup('c').data().asFloat(), y = got.gradients().get(name).dup('c').data().asFloat();
                assertEquals(x.length, y.length, name);
                double scale = 0;
                for (float v : x) scale = Math.max(scale, Math.abs(v));
                // k.bias: softmax is blind to a shift shared by every key, its true gradient is 0 and both
                // hold rounding noise; measured against the query weights' gradient instead
                if (name.equals("layer0.attn.k.bias")) scale = want.gradients().get("layer0.attn.q.weight").amaxNumber().doubleValue();
                for (int i = 0; i < x.length; i++) {
                    double err = Math.abs(x[i] - y[i]);
                    assertTrue(err <= 1e-4 * scale + 1e-7, name + "[" + i + "]: " + x[i] + " vs " + y[i] + " (rows " + rows + ", largest " + scale + ")");
                    if (!name.equals("layer0.attn.k.bias")) worst = Math.max(worst, err / scale); // k.bias: truly 0, rounding noise only
                    differs |= x[i] != y[i];
                }
                INDArray g = want.gradients().get(name), w = weights.get(name);
                w.subi(g.mul(0.05 / (g.amaxNumber().doubleValue() + 1e-6)));
            }
            // PPO on the whole buffer pools every position into the value head: every query is needed
            boolean everyQueryNeeded = wholeBuffer && config.algorithm().equals("ppo");
            assertTrue(differs || everyQueryNeeded, "a different computation, not the same one by another name");
        }
        System.out.printf("fast-eligible vs reference (%s): largest gradient difference %.2e of the tensor's largest entry%n", Arrays.toString(settings), worst);
    }

    /**
     * Random features, a third of the positions ineligible (a few rows almost entirely, one row
     * entirely: no query of it reaches the loss), actions at 30%, ratios near 1.
     */
    private static FastPolicyGradients.Minibatch minibatch(TrainConfig c, PolicyTrainer trainer, int rows, int width, boolean wholeBuffer, Random rng) {
        int f = GradientFixture.FEATURES.size();
        float[] feats = new float[rows * width * f], keyBias = new float[rows * width], actions = new float[rows * width], elig = new float[rows * width];
        for (int i = 0; i < feats.length; i++) feats[i] = (float) rng.nextGaussian();
        for (int i = 0; i < rows * width; i++) {
            int r = i / width;
            double p = r % 3 == 2 ? 0.1 : 0.67;
            boolean eligible = r != 1 && (i % width == 0 || rng.nextDouble() < p);
            elig[i] = eligible ? 1f : 0f;
            // on the block the ineligible positions are masked keys; row 1 keeps one attended key
            if (!eligible && !wholeBuffer && !(r == 1 && i % width == 3)) keyBias[i] = -1e9f;
            actions[i] = eligible && rng.nextDouble() < 0.3 ? 1f : 0f;
        }
        // log pi under the current weights (the trainer's net holds the arrays the test moves), so that
        // the ratios and the KL to the reference stay near where training has them
        boolean[][] e = new boolean[rows][width];
        for (int i = 0; i < rows * width; i++) e[i / width][i % width] = elig[i] == 1f;
        float[][] logits = trainer.net().logits(new PolicyWindow(feats, keyBias, e, new int[rows], rows, width));
        float[] oldLogp = new float[rows], adv = new float[rows], ret = new float[rows], ref = new float[rows], w = new float[rows];
        for (int r = 0; r < rows; r++) {
            double logp = 0;
            for (int j = 0; j < width; j++) {
                if (!e[r][j]) continue;
                double z = logits[r][j];
                logp += actions[r * width + j] == 1f ? -Math.log1p(Math.exp(-z)) : -Math.log1p(Math.exp(z));
            }
            oldLogp[r] = (float) (logp + 0.3 * rng.nextGaussian()); // ratios inside and outside the clip range
            adv[r] = (float) rng.nextGaussian();
            ret[r] = (float) rng.nextDouble();
            ref[r] = (float) (oldLogp[r] + 0.2 * rng.nextGaussian());
            w[r] = 1f / rows;
        }
        boolean ppo = c.algorithm().equals("ppo");
        return new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, oldLogp, adv, ppo ? ret : null,
                c.klCoef() > 0 ? ref : null, c.lossNormalisation().equals(TrainConfig.PER_STEP) ? null : w);
    }

}
