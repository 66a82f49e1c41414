package dev.unmask.rollout;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The policy update that skips the work of positions outside the loss (split into small methods,
 * softmax and its backward only for the queries whose outputs are used) computes bit for bit what
 * the one-method update before it computed ({@link ReferencePolicyGradients}, kept verbatim): the
 * objective's terms and every gradient, over several minibatches with the weights moving between
 * them, for GRPO on the active block and PPO (whose value head pools every key) on the whole buffer.
 * The one latitude is the sign of an exact zero, which no sum and no Adam step can tell apart.
 */
class ReducedRowsBitIdentityTest {
    @Test
    void grpoOnTheActiveBlockIsBitIdentical() {
        compare(false, "algorithm", "grpo", "policyContext", "block", "entropyCoef", 0.02, "lossNormalisation", "episode");
    }

    @Test
    void grpoOnTheWholeBufferIsBitIdentical() {
        compare(true, "algorithm", "grpo", "policyContext", "buffer", "lossNormalisation", "episode");
    }

    /** As the committed ducci runs: without an entropy bonus a step with advantage 0 or a clipped ratio has no gradient at all. */
    @Test
    void grpoWithoutEntropyBonusIsBitIdentical() {
        compare(true, "algorithm", "grpo", "policyContext", "buffer", "entropyCoef", 0.0, "lossNormalisation", "episode");
    }

    @Test
    void ppoOnTheWholeBufferWithTheCriticAndKlIsBitIdentical() {
        compare(true, "algorithm", "ppo", "policyContext", "buffer", "entropyCoef", 0.01, "klCoef", 0.3, "valueCoef", 0.7,
                "lossNormalisation", "step", "clipEpsilon", 0.1);
    }

    private static void compare(boolean wholeBuffer, Object... settings) {
        Random rng = new Random(3);
        GradientFixture fx = GradientFixture.of(wholeBuffer, "fast", rng, settings);
        TrainConfig config = fx.config();
        int width = fx.width();
        Map<String, INDArray> weights = fx.weights();
        List<String> wanted = fx.wanted();
        FastPolicyGradients fast = fx.update();
        ReferencePolicyGradients reference = fx.reference();
        // minibatches of different sizes, growing and shrinking the buffers, with the weights moved between them
        for (int rows : new int[]{7, 12, 5}) {
            FastPolicyGradients.Minibatch mb = minibatch(config, rows, width, wholeBuffer, rng);
            FastPolicyGradients.Result want = reference.compute(weights, mb, wanted), got = fast.compute(weights, mb, wanted);
            assertTrue(Double.isFinite(want.loss()), "a finite loss to compare");
            assertEquals(want.loss(), got.loss(), 0.0, "loss");
            assertEquals(want.clipFraction(), got.clipFraction(), 0.0, "clip fraction");
            assertEquals(want.approxKl(), got.approxKl(), 0.0, "approximate KL");
            assertEquals(want.entropy(), got.entropy(), 0.0, "entropy");
            assertEquals(want.klToReference(), got.klToReference(), 0.0, "KL to the reference");
            assertEquals(want.gradients().keySet(), got.gradients().keySet());
            for (String name : want.gradients().keySet()) {
                float[] x = want.gradients().get(name).dup('c').data().asFloat(), y = got.gradients().get(name).dup('c').data().asFloat();
                assertEquals(x.length, y.length, name);
                for (int i = 0; i < x.length; i++) {
                    boolean same = Float.floatToRawIntBits(x[i]) == Float.floatToRawIntBits(y[i]) || (x[i] == 0f && y[i] == 0f);
                    assertTrue(same, name + "[" + i + "]: " + x[i] + " vs " + y[i] + " (rows " + rows + ")");
                }
                INDArray g = want.gradients().get(name), w = weights.get(name);
                w.subi(g.mul(0.05 / (g.amaxNumber().doubleValue() + 1e-6))); // move the weights a little for the next minibatch
            }
        }
    }

    /** Random features, a third of the positions ineligible (a few rows almost entirely), actions at 30%, ratios near 1, advantages 0 in two steps of five. */
    static FastPolicyGradients.Minibatch minibatch(TrainConfig c, int rows, int width, boolean wholeBuffer, Random rng) {
        int f = GradientFixture.FEATURES.size();
        float[] feats = new float[rows * width * f], keyBias = new float[rows * width], actions = new float[rows * width], elig = new float[rows * width];
        for (int i = 0; i < feats.length; i++) feats[i] = (float) rng.nextGaussian();
        for (int i = 0; i < rows * width; i++) {
            int row = i / width, j = i % width;
            boolean eligible;
            if (row % 3 == 1) { // a committed prefix, as left-to-right decoding leaves: whole row blocks without a position in the loss
                eligible = j == width - 1 || (j >= (row * 37) % width && rng.nextDouble() < 0.67);
            } else {
                eligible = j == 0 || rng.nextDouble() < (row % 3 == 2 ? 0.1 : 0.67);
            }
            elig[i] = eligible ? 1f : 0f;
            if (!eligible && !wholeBuffer) keyBias[i] = -1e9f;
            actions[i] = eligible && rng.nextDouble() < 0.3 ? 1f : 0f;
        }
        float[] oldLogp = new float[rows], adv = new float[rows], ret = new float[rows], ref = new float[rows], w = new float[rows];
        for (int r = 0; r < rows; r++) {
            oldLogp[r] = (float) (-3 + rng.nextGaussian());
            // two steps in five without an advantage, as GRPO's groups of equal rewards give: no gradient from their loss
            adv[r] = r % 5 >= 3 ? 0f : (float) rng.nextGaussian();
            ret[r] = (float) rng.nextDouble();
            ref[r] = (float) (oldLogp[r] + 0.2 * rng.nextGaussian());
            w[r] = 1f / rows;
        }
        boolean ppo = c.algorithm().equals("ppo");
        return new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, oldLogp, adv, ppo ? ret : null,
                c.klCoef() > 0 ? ref : null, c.lossNormalisation().equals(TrainConfig.PER_STEP) ? null : w);
    }

}
