package dev.unmask.rollout;

import dev.unmask.policy.PolicyWindow;
import dev.unmask.env.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The hand-written policy update computes the graph's objective and its true gradient: on random
 * weights and minibatches (ratios inside and outside the clip range, ineligible positions), every
 * term agrees with SameDiff's to float rounding, and every parameter's gradient agrees with the
 * graph's once SameDiff's double count at min()'s ties is taken out.
 */
class FastPolicyGradientsTest {
    private static final List<String> FEATURES = List.of("confidence_logodds", "mask_bit", "masked_before", "buffer_step_fraction");

    @Test
    void grpoOnTheActiveBlockWithEntropyAndEpisodeWeightsMatchesTheGraph() {
        compare(false, "algorithm", "grpo", "policyContext", "block", "entropyCoef", 0.02, "lossNormalisation", "episode");
    }

    @Test
    void ppoOnTheWholeBufferWithTheCriticAndKlMatchesTheGraph() {
        compare(true, "algorithm", "ppo", "policyContext", "buffer", "entropyCoef", 0.01, "klCoef", 0.3, "valueCoef", 0.7,
                "lossNormalisation", "step", "clipEpsilon", 0.1);
    }

    @Test
    void aRunRecordedBeforeTheKeyExistedKeepsTheSameDiffUpdate(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"algorithm\": \"grpo\", \"task\": \"sort\"}");
        assertEquals(TrainConfig.SAMEDIFF_UPDATE, TrainConfig.readRecorded(dir.resolve("config.json")).policyUpdate());
        assertEquals(TrainConfig.FAST_UPDATE, TrainConfig.defaults().policyUpdate(), "a new run gets the fast update");
    }

    private static void compare(boolean wholeBuffer, Object... settings) {
        Object[] base = {"task", "sort", "features", FEATURES, "dModel", 8, "heads", 2, "ffDim", 16, "genLength", 24, "blockLength", wholeBuffer ? 24 : 8};
        Object[] all = java.util.Arrays.copyOf(base, base.length + settings.length);
        System.arraycopy(settings, 0, all, base.length, settings.length);
        TrainConfig graphConfig = TrainConfigTest.with(concat(all, "policyUpdate", "samediff"));
        TrainConfig fastConfig = TrainConfigTest.with(concat(all, "policyUpdate", "fast"));
        PolicyTrainer graph = new PolicyTrainer(graphConfig, new ChainDenoiser());
        PolicyTrainer fast = new PolicyTrainer(fastConfig, new ChainDenoiser());
        // random weights everywhere (LayerNorm gains and biases too), the same in both
        Random rng = new Random(11);
        Map<String, Safetensors.Tensor> weights = new TreeMap<>();
        graph.net().weights().forEach((name, t) -> {
            float[] v = new float[t.data().length];
            for (int i = 0; i < v.length; i++) v[i] = (float) (name.endsWith(".gain") ? 1 + 0.3 * rng.nextGaussian() : 0.4 * rng.nextGaussian());
            weights.put(name, new Safetensors.Tensor(t.shape(), v));
        });
        graph.net().loadWeights(weights, "test");
        fast.net().loadWeights(weights, "test");

        int rows = 6, width = wholeBuffer ? 24 : 8, f = FEATURES.size();
        float[] feats = new float[rows * width * f], keyBias = new float[rows * width], actions = new float[rows * width], elig = new float[rows * width];
        for (int i = 0; i < feats.length; i++) feats[i] = (float) rng.nextGaussian();
        for (int i = 0; i < rows * width; i++) {
            boolean eligible = rng.nextDouble() < 0.6 || i % width == 0;
            elig[i] = eligible ? 1f : 0f;
            if (!eligible && !wholeBuffer) keyBias[i] = -1e9f;
            actions[i] = eligible && rng.nextDouble() < 0.4 ? 1f : 0f;
        }
        float[] adv = new float[rows], ret = new float[rows], weightsPerStep = new float[rows], zeros = new float[rows];
        float sum = 0;
        for (int r = 0; r < rows; r++) {
            adv[r] = (float) rng.nextGaussian();
            ret[r] = (float) rng.nextDouble();
            weightsPerStep[r] = 1 + rng.nextInt(3);
            sum += weightsPerStep[r];
        }
        for (int r = 0; r < rows; r++) weightsPerStep[r] /= sum;
        boolean ppo = graphConfig.algorithm().equals("ppo"), kl = graphConfig.klCoef() > 0, weighted = !graphConfig.lossNormalisation().equals("step");
        // log pi under the current weights, so the recorded ones can sit on either side of the clip range
        var probe = new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, zeros, adv, ppo ? ret : null, kl ? zeros : null, weighted ? weightsPerStep : null);
        double[] logp = new double[rows];
        float[][] logits = graph.net().logits(new PolicyWindow(feats, keyBias, eligibility(elig, rows, width), new int[rows], rows, width));
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < width; j++) {
                if (elig[r * width + j] == 0f) continue;
                double z = logits[r][j];
                logp[r] += actions[r * width + j] == 1f ? -Math.log1p(Math.exp(-z)) : -Math.log1p(Math.exp(z));
            }
        }
        float[] oldLogp = new float[rows], ref = new float[rows];
        double[] shifts = {0.0, 0.05, -0.05, 0.6, -0.6, 0.3};
        for (int r = 0; r < rows; r++) {
            oldLogp[r] = (float) (logp[r] + shifts[r]); // ratios 1, inside the clip range, and outside it on both sides
            ref[r] = (float) (logp[r] + 0.2 * rng.nextGaussian());
        }
        var mb = new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, oldLogp, adv, probe.returns(), kl ? ref : null, probe.stepWeights());

        FastPolicyGradients.Result want = graph.gradients(mb), got = fast.gradients(mb);
        // SameDiff's min() sends the gradient to both arguments when they are equal, which they are
        // wherever the ratio lies inside the clip range: its surrogate gradient there is twice the
        // true one. The graph with those steps' advantages halved has the true gradient.
        float[] halved = adv.clone();
        int inside = 0;
        for (int r = 0; r < rows; r++) {
            double ratio = Math.exp(logp[r] - oldLogp[r]);
            if (Math.abs(ratio - 1) < graphConfig.clipEpsilon()) {
                halved[r] /= 2;
                inside++;
            }
        }
        assertTrue(inside > 0 && inside < rows, "steps inside and outside the clip range: " + inside);
        FastPolicyGradients.Result truth = graph.gradients(new FastPolicyGradients.Minibatch(rows, width, feats, keyBias, actions, elig, oldLogp,
                halved, mb.returns(), mb.refLogProb(), mb.stepWeights()));
        assertEquals(want.loss(), got.loss(), 1e-4 * Math.max(1, Math.abs(want.loss())), "loss");
        assertEquals(want.clipFraction(), got.clipFraction(), 1e-9, "clip fraction");
        assertTrue(want.clipFraction() > 0 && want.clipFraction() < 1, "the minibatch has clipped and unclipped steps: " + want.clipFraction());
        assertEquals(want.approxKl(), got.approxKl(), 1e-4, "approximate KL");
        assertEquals(want.entropy(), got.entropy(), 1e-4 * Math.max(1, Math.abs(want.entropy())), "entropy");
        assertEquals(want.klToReference(), got.klToReference(), 1e-4, "KL to the reference");
        assertEquals(want.gradients().keySet(), got.gradients().keySet(), "the same parameters");
        assertEquals(ppo, want.gradients().containsKey("value_head.weight"), "the critic trains only in PPO");
        for (String name : truth.gradients().keySet()) {
            INDArray a = truth.gradients().get(name), b = got.gradients().get(name);
            assertArrayEquals(a.shape(), b.shape(), name);
            float[] x = a.dup('c').data().asFloat(), y = b.dup('c').data().asFloat();
            double scale = 0;
            for (float v : x) scale = Math.max(scale, Math.abs(v));
            if (name.equals("layer0.attn.k.bias")) { // softmax is blind to a shift shared by every key: its true gradient is 0
                for (int i = 0; i < x.length; i++) assertEquals(0, y[i], 1e-6, name + "[" + i + "]");
                continue;
            }
            assertTrue(scale > 1e-6, name + " has a gradient to compare");
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 2e-3 * scale + 1e-7, name + "[" + i + "]");
        }
    }

    private static boolean[][] eligibility(float[] elig, int rows, int width) {
        boolean[][] e = new boolean[rows][width];
        for (int r = 0; r < rows; r++) for (int j = 0; j < width; j++) e[r][j] = elig[r * width + j] == 1f;
        return e;
    }

    private static Object[] concat(Object[] a, Object... b) {
        Object[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
