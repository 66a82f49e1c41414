package dev.unmask.rollout;

import dev.unmask.policy.BernoulliDecision;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The RL objective on tiny inputs worked out by hand. Three steps over a window of three
 * positions; logits are log-odds of round probabilities so every term has a closed form:
 * <pre>
 *   step 0: p = (0.75, 0.5, -)    eligible (1, 1, 0), drew (1, 0)    log pi = ln(0.75 * 0.5)       = ln 0.375
 *   step 1: p = (0.25, 0.2, -)    eligible (1, 1, 0), drew nothing   log pi = ln(0.75 * 0.8)       = ln 0.6   (the fallback follows)
 *   step 2: p = (0.8, 0.5, 0.2)   eligible (1, 1, 1), drew (1, 1, 0) log pi = ln(0.8 * 0.5 * 0.8) = ln 0.32
 * </pre>
 * The third position of steps 0 and 1 is not eligible and carries a large logit that must not count.
 */
class PolicyLossTest {
    private static final double TOL = 1e-6;
    private static final double[][] LOGITS = {
            {Math.log(3), 0, 5},
            {-Math.log(3), -Math.log(4), 9},
            {Math.log(4), 0, -Math.log(4)}};
    private static final double[][] ELIGIBLE = {{1, 1, 0}, {1, 1, 0}, {1, 1, 1}};
    private static final double[][] ACTIONS = {{1, 0, 0}, {0, 0, 0}, {1, 1, 0}};
    private static final double[] LOG_PI = {Math.log(0.375), Math.log(0.6), Math.log(0.32)};

    /** Bernoulli entropy in nats. */
    private static double h(double p) {
        return -p * Math.log(p) - (1 - p) * Math.log(1 - p);
    }

    private static final double[] ENTROPY = {h(0.75) + h(0.5), h(0.25) + h(0.2), h(0.8) + h(0.5) + h(0.2)};

    /** Inputs of one evaluation of the loss graph beyond the fixed logits, eligibility and actions. */
    private record Inputs(double[] oldLogp, double[] advantages, double[] values, double[] returns, double[] refLogp, double[] weights) {
    }

    private static Inputs inputs(double[] ratios, double[] advantages) {
        double[] old = new double[3];
        for (int i = 0; i < 3; i++) old[i] = LOG_PI[i] - Math.log(ratios[i]);
        return new Inputs(old, advantages, null, null, null, null);
    }

    /** Builds the objective on placeholder logits in double precision and evaluates every output it has. */
    private static Map<String, Double> evaluate(TrainConfig c, Inputs in) {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.placeHolder("z", DataType.DOUBLE, -1, -1);
        SDVariable v = sd.placeHolder("v", DataType.DOUBLE, -1);
        PolicyLoss.build(sd, z, v, c);
        Map<String, INDArray> ph = new HashMap<>();
        ph.put("z", Nd4j.createFromArray(LOGITS));
        ph.put(PolicyLoss.ELIGIBLE, Nd4j.createFromArray(ELIGIBLE));
        ph.put(PolicyLoss.ACTIONS, Nd4j.createFromArray(ACTIONS));
        ph.put(PolicyLoss.OLD_LOGP, Nd4j.createFromArray(in.oldLogp()));
        ph.put(PolicyLoss.ADVANTAGES, Nd4j.createFromArray(in.advantages()));
        List<String> outputs = new ArrayList<>(List.of(PolicyLoss.LOSS, PolicyLoss.LOG_PROB, PolicyLoss.ENTROPY, PolicyLoss.CLIP_FRACTION,
                PolicyLoss.APPROX_KL));
        if (c.algorithm().equals("ppo")) {
            ph.put("v", Nd4j.createFromArray(in.values()));
            ph.put(PolicyLoss.RETURNS, Nd4j.createFromArray(in.returns()));
        }
        if (c.klCoef() > 0) {
            ph.put(PolicyLoss.REF_LOGP, Nd4j.createFromArray(in.refLogp()));
            outputs.add(PolicyLoss.KL_TO_REFERENCE);
        }
        if (in.weights() != null) ph.put(PolicyLoss.STEP_WEIGHTS, Nd4j.createFromArray(in.weights()));
        Map<String, INDArray> out = sd.output(ph, outputs.toArray(new String[0]));
        Map<String, Double> terms = new TreeMap<>();
        out.forEach((k, a) -> terms.put(k, a.length() == 1 ? a.getDouble(0) : Double.NaN));
        double[] logp = out.get(PolicyLoss.LOG_PROB).toDoubleVector();
        for (int i = 0; i < logp.length; i++) terms.put("logp" + i, logp[i]);
        return terms;
    }

    private static TrainConfig config(Object... keyValues) {
        Object[] base = {"entropyCoef", 0.0, "clipEpsilon", 0.2, "lossNormalisation", "step"};
        Object[] all = Arrays.copyOf(base, base.length + keyValues.length);
        System.arraycopy(keyValues, 0, all, base.length, keyValues.length);
        return TrainConfigTest.with(all);
    }

    @Test
    void logProbabilityCountsEligiblePositionsOnlyAndAnEmptyDrawIsTheFallbacksProbability() {
        Map<String, Double> t = evaluate(config(), inputs(new double[]{1, 1, 1}, new double[]{0, 0, 0}));
        assertEquals(-0.980829253, t.get("logp0"), TOL, "ln 0.375");
        assertEquals(-0.510825624, t.get("logp1"), TOL, "ln 0.6: the empty draw, after which the fallback is certain");
        assertEquals(-1.139434283, t.get("logp2"), TOL, "ln 0.32");
        // the rollout side computes the same numbers: what the policy did, under the policy
        for (int i = 0; i < 3; i++) {
            float[] z = new float[3];
            boolean[] elig = new boolean[3], drew = new boolean[3];
            for (int j = 0; j < 3; j++) {
                z[j] = (float) LOGITS[i][j];
                elig[j] = ELIGIBLE[i][j] == 1;
                drew[j] = ACTIONS[i][j] == 1;
            }
            assertEquals(LOG_PI[i], BernoulliDecision.logProbability(z, elig, drew), TOL, "step " + i);
        }
        // step 1 drawn greedily: nothing reaches 0.5, the most probable position is taken, and the recorded
        // log-probability is that of the empty draw
        float[] z1 = {(float) LOGITS[1][0], (float) LOGITS[1][1], (float) LOGITS[1][2]};
        BernoulliDecision d = BernoulliDecision.decide(z1, 0, 3, j -> j < 2, 1.0, false, new SplittableRandom(1));
        assertEquals(0, d.fallback(), "p = 0.25 beats 0.2; the ineligible logit 9 is never a candidate");
        assertEquals(Math.log(0.6), d.logProb(), TOL);
        assertArrayEquals(new boolean[]{true, false, false}, d.taken());
    }

    @Test
    void ratioIsClippedOnTheSideThatWouldGainAndTheClipFractionCountsIt() {
        // ratios 1.5 (A = +1: clipped to 1.2), 0.6 (A = -2: clipped to 0.8, min picks -1.6), 1.1 (inside, A = 0.5)
        Map<String, Double> t = evaluate(config(), inputs(new double[]{1.5, 0.6, 1.1}, new double[]{1, -2, 0.5}));
        assertEquals(-(1.2 - 1.6 + 0.55) / 3, t.get(PolicyLoss.LOSS), TOL);
        assertEquals(2.0 / 3, t.get(PolicyLoss.CLIP_FRACTION), TOL);
        assertEquals((Math.log(1 / 1.5) + Math.log(1 / 0.6) + Math.log(1 / 1.1)) / 3, t.get(PolicyLoss.APPROX_KL), TOL);
        // a ratio clipped on the side that would lose is not clipped in the objective: 0.6 with A = +1 counts as 0.6
        Map<String, Double> u = evaluate(config(), inputs(new double[]{1.5, 0.6, 1.1}, new double[]{-1, 1, 0.5}));
        assertEquals(-(-1.5 + 0.6 + 0.55) / 3, u.get(PolicyLoss.LOSS), TOL);
        // a wider clip lets 1.5 through
        Map<String, Double> w = evaluate(config("clipEpsilon", 0.6), inputs(new double[]{1.5, 0.6, 1.1}, new double[]{1, -2, 0.5}));
        assertEquals(-(1.5 - 1.2 + 0.55) / 3, w.get(PolicyLoss.LOSS), TOL);
    }

    @Test
    void entropyIsTheSumOfBernoulliEntropiesOverEligiblePositionsAveragedOverSteps() {
        Map<String, Double> t = evaluate(config("entropyCoef", 0.1), inputs(new double[]{1, 1, 1}, new double[]{0, 0, 0}));
        double mean = (ENTROPY[0] + ENTROPY[1] + ENTROPY[2]) / 3;
        assertEquals(1.337390641, mean, 1e-9, "hand arithmetic: (1.255482 + 1.062738 + 1.693952) / 3");
        assertEquals(mean, t.get(PolicyLoss.ENTROPY), TOL);
        assertEquals(-0.1 * mean, t.get(PolicyLoss.LOSS), TOL, "zero advantages: the loss is the entropy bonus alone");
    }

    @Test
    void ppoAddsTheSquaredValueErrorAndGrpoIgnoresTheCritic() {
        Inputs base = inputs(new double[]{1, 1, 1}, new double[]{0, 0, 0});
        Inputs in = new Inputs(base.oldLogp(), base.advantages(), new double[]{0.5, 0.2, -0.1}, new double[]{1, 0, 0.3}, null, null);
        // errors 0.5, 0.2, 0.4: mean square 0.15, times valueCoef 0.5
        assertEquals(0.075, evaluate(config("algorithm", "ppo", "valueCoef", 0.5), in).get(PolicyLoss.LOSS), TOL);
        assertEquals(0.0, evaluate(config("algorithm", "grpo"), in).get(PolicyLoss.LOSS), TOL);
    }

    @Test
    void klTermIsTheK3EstimateAgainstTheReferenceLogProbabilities() {
        Inputs base = inputs(new double[]{1, 1, 1}, new double[]{0, 0, 0});
        double[] ref = {LOG_PI[0] + 0.1, LOG_PI[1] - 0.2, LOG_PI[2]};
        Inputs in = new Inputs(base.oldLogp(), base.advantages(), null, null, ref, null);
        Map<String, Double> t = evaluate(config("klCoef", 0.5), in);
        // e^0.1 - 0.1 - 1 = 0.005170918, e^-0.2 + 0.2 - 1 = 0.018730753, 0
        double kl = (0.005170918 + 0.018730753) / 3;
        assertEquals(kl, t.get(PolicyLoss.KL_TO_REFERENCE), TOL);
        assertEquals(0.5 * kl, t.get(PolicyLoss.LOSS), TOL);
    }

    @Test
    void weightedNormalisationAveragesEveryTermWithTheStepWeights() {
        double[] w = {0.25, 0.25, 0.5}; // e.g. per episode: steps 0 and 1 from a 2-step episode, step 2 a 1-step episode
        Inputs base = inputs(new double[]{1.5, 0.6, 1.1}, new double[]{1, -2, 0.5});
        Inputs in = new Inputs(base.oldLogp(), base.advantages(), new double[]{0.5, 0.2, -0.1}, new double[]{1, 0, 0.3},
                new double[]{LOG_PI[0] + 0.1, LOG_PI[1] - 0.2, LOG_PI[2]}, w);
        Map<String, Double> t = evaluate(config("algorithm", "ppo", "lossNormalisation", "episode", "entropyCoef", 0.1, "valueCoef", 0.5,
                "klCoef", 0.5), in);
        double surrogate = 0.25 * 1.2 + 0.25 * -1.6 + 0.5 * 0.55;
        double entropy = 0.25 * ENTROPY[0] + 0.25 * ENTROPY[1] + 0.5 * ENTROPY[2];
        double value = 0.25 * 0.25 + 0.25 * 0.04 + 0.5 * 0.16;
        double kl = 0.25 * 0.005170918 + 0.25 * 0.018730753;
        assertEquals(entropy, t.get(PolicyLoss.ENTROPY), TOL);
        assertEquals(kl, t.get(PolicyLoss.KL_TO_REFERENCE), TOL);
        assertEquals(-surrogate - 0.1 * entropy + 0.5 * value + 0.5 * kl, t.get(PolicyLoss.LOSS), TOL);
    }

    /** A trajectory with the given steps' draws and a reward, in a group. */
    private static Trajectory trajectory(int group, double reward, boolean[]... draws) {
        Trajectory t = new Trajectory(Tasks.byName("sort").dataset(Split.TRAIN, 1, 1).get(0), group);
        for (boolean[] d : draws) t.steps.add(new StepSample(new float[d.length], new float[d.length], new boolean[d.length], d, 0, 0f));
        t.reward = reward;
        return t;
    }

    @Test
    void stepWeightsGiveEachEpisodeOrEachUnmaskedTokenTheSameWeight() {
        boolean[] none = {false, false, false, false}, one = {true, false, false, false}, three = {true, true, true, false};
        List<Trajectory> batch = List.of(trajectory(0, 1, none, three), trajectory(0, 0, one, one, three, none));
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i < 2; i++) for (int k = 0; k < batch.get(i).steps.size(); k++) all.add(new int[]{i, k});
        assertNull(PolicyTrainer.stepWeights("step", batch, all), "step: a plain mean in the graph");
        // episode: 1/2 per step of the first episode, 1/4 per step of the second, over 2 episodes
        assertArrayEquals(new double[]{0.25, 0.25, 0.125, 0.125, 0.125, 0.125}, PolicyTrainer.stepWeights("episode", batch, all), 1e-12);
        // token: positions unmasked per step (an empty draw still unmasks its fallback): 1, 3 | 1, 1, 3, 1 over 10
        assertArrayEquals(new double[]{0.1, 0.3, 0.1, 0.1, 0.3, 0.1}, PolicyTrainer.stepWeights("token", batch, all), 1e-12);
        // a minibatch holding part of the steps is normalised within itself
        assertArrayEquals(new double[]{0.5, 0.25, 0.25}, PolicyTrainer.stepWeights("episode", batch, List.of(all.get(0), all.get(2), all.get(5))), 1e-12);
        // over the whole batch, per-episode weighting is the mean over episodes of each episode's mean over its steps
        double[] perStep = {1, 3, 2, 2, 6, 10};
        double weighted = 0;
        double[] w = PolicyTrainer.stepWeights("episode", batch, all);
        for (int i = 0; i < 6; i++) weighted += w[i] * perStep[i];
        assertEquals(((1 + 3) / 2.0 + (2 + 2 + 6 + 10) / 4.0) / 2, weighted, 1e-12);
    }

    @Test
    void groupRelativeAdvantagesWithAndWithoutStdScaling() {
        // group 0: rewards 1, 0, 0.5 (mean 0.5, population std sqrt(1/6)); group 1: all equal, no signal
        List<Trajectory> batch = List.of(trajectory(0, 1.0, new boolean[1], new boolean[1]), trajectory(0, 0.0, new boolean[1]),
                trajectory(0, 0.5, new boolean[1]), trajectory(1, 0.7, new boolean[1]), trajectory(1, 0.7, new boolean[1]));
        Advantages.groupRelative(batch, false);
        assertArrayEquals(new double[]{0.5, 0.5}, batch.get(0).advantages, TOL, "every step of an episode gets its advantage");
        assertArrayEquals(new double[]{-0.5}, batch.get(1).advantages, TOL);
        assertArrayEquals(new double[]{0.0}, batch.get(2).advantages, TOL);
        assertArrayEquals(new double[]{0.0}, batch.get(3).advantages, TOL);
        assertArrayEquals(new double[]{1.0, 1.0}, batch.get(0).returns, TOL);
        Advantages.groupRelative(batch, true);
        double std = Math.sqrt(1.0 / 6);
        assertEquals(0.408248290, std, 1e-9);
        assertArrayEquals(new double[]{0.5 / (std + 1e-6), 0.5 / (std + 1e-6)}, batch.get(0).advantages, TOL);
        assertEquals(1.2247419, batch.get(0).advantages[0], TOL);
        assertEquals(-1.2247419, batch.get(1).advantages[0], TOL);
        assertArrayEquals(new double[]{0.0}, batch.get(4).advantages, TOL, "equal rewards: A = 0, not 0/0");
    }

    @Test
    void gaeDiscountsTheFinalRewardThroughTheValuesThenNormalisesOverTheBatch() {
        Trajectory a = trajectory(0, 1.0, new boolean[1], new boolean[1], new boolean[1]);
        Trajectory b = trajectory(1, 0.0, new boolean[1]);
        float[] va = {0.2f, 0.5f, 0.9f};
        for (int k = 0; k < 3; k++) {
            StepSample s = a.steps.get(k);
            a.steps.set(k, new StepSample(s.features(), s.keyBias(), s.eligible(), s.sampled(), 0, va[k]));
        }
        StepSample s = b.steps.get(0);
        b.steps.set(0, new StepSample(s.features(), s.keyBias(), s.eligible(), s.sampled(), 0, 0.4f));
        Advantages.gae(List.of(a, b), 0.9, 0.8);
        // episode a, backwards: delta2 = 1 - 0.9 = 0.1, A2 = 0.1
        //   delta1 = 0 + 0.9*0.9 - 0.5 = 0.31, A1 = 0.31 + 0.72*0.1 = 0.382
        //   delta0 = 0 + 0.9*0.5 - 0.2 = 0.25, A0 = 0.25 + 0.72*0.382 = 0.52504
        // episode b: delta0 = 0 - 0.4, A0 = -0.4
        double[] raw = {0.52504, 0.382, 0.1, -0.4};
        assertArrayEquals(new double[]{0.52504 + 0.2, 0.382 + 0.5, 0.1 + 0.9}, a.returns, 1e-6, "returns = A + V, before normalising");
        assertArrayEquals(new double[]{-0.4 + 0.4}, b.returns, 1e-6);
        double mean = Arrays.stream(raw).average().orElseThrow();
        double std = Math.sqrt(Arrays.stream(raw).map(x -> (x - mean) * (x - mean)).average().orElseThrow());
        double[] expected = IntStream.range(0, 4).mapToDouble(i -> (raw[i] - mean) / (std + 1e-8)).toArray();
        assertArrayEquals(Arrays.copyOf(expected, 3), a.advantages, 1e-6);
        assertEquals(expected[3], b.advantages[0], 1e-6);
    }
}
