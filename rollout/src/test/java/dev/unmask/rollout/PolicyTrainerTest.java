package dev.unmask.rollout;

import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PolicyTrainerTest {
    private static final int L = 32;
    private final Task sort = Tasks.byName("sort");

    private ChainDenoiser dllm() {
        return new ChainDenoiser();
    }

    private TrainConfig config(String algorithm, int iterations, boolean shuffle) {
        return new TrainConfig(algorithm, "sort", L, L, iterations, 8, 8, 2, 128, 5e-3, 0.2, 0.0, 0.5, 1.0, 0.95, 0.0, 1.0, 0.5,
                3, 5, shuffle, 16, 2, 32, List.of("confidence"), 0.5, true);
    }

    @Test
    void groupAdvantagesAreCentredAndOnlyOptionallyScaledBySpread() {
        List<Trajectory> group = new ArrayList<>();
        for (double r : new double[]{1.0, 0.98}) {
            Trajectory t = new Trajectory(sort.dataset(Split.TRAIN, 1, 1).get(0), 0);
            t.steps.add(null);
            t.reward = r;
            group.add(t);
        }
        Advantages.groupRelative(group, false);
        assertEquals(0.01, group.get(0).advantages[0], 1e-12, "centred only: a small speed gap stays small");
        assertEquals(-0.01, group.get(1).advantages[0], 1e-12);
        Advantages.groupRelative(group, true);
        assertEquals(1.0, group.get(0).advantages[0], 1e-3, "scaled by the spread: the same gap becomes a unit advantage");
    }

    @Test
    void initUnmaskProbShiftsTheFreshPolicysLogitsByItsLogOdds() {
        float[] conf = new float[L], bias = new float[L];
        boolean[][] eligible = new boolean[1][L];
        for (int j = 0; j < L; j++) {
            conf[j] = (j % 10) / 10f;
            eligible[0][j] = true;
        }
        PolicyNet.Window window = new PolicyNet.Window(conf, bias, eligible, new int[1], 1, L);
        float[][] half = new PolicyTrainer(initProb(0.5), dllm()).net().logits(window);
        float[][] low = new PolicyTrainer(initProb(0.05), dllm()).net().logits(window);
        double shift = Math.log(0.05 / 0.95); // same seed, same weights: only the output bias differs
        for (int j = 0; j < L; j++) assertEquals(half[0][j] + shift, low[0][j], 1e-4, "position " + j);
        double mean = 0;
        for (float z : low[0]) mean += 1 / (1 + Math.exp(-z)) / L;
        assertTrue(mean < 0.15, "a fresh policy unmasks few positions per step: " + mean);
        assertThrows(dev.unmask.env.UnmaskException.class, () -> initProb(1.0));
    }

    private TrainConfig initProb(double p0) {
        return new TrainConfig("grpo", "sort", L, L, 1, 8, 8, 2, 128, 5e-3, 0.2, 0.0, 0.5, 1.0, 0.95, 0.0, 1.0, 0.5,
                3, 5, false, 16, 2, 32, List.of("confidence"), p0, true);
    }

    @Test
    void logProbabilitiesRecordedInRolloutsMatchTheTrainingGraph() {
        PolicyTrainer trainer = new PolicyTrainer(config("grpo", 1, false), dllm());
        var env = new UnmaskingEnv(dllm(), sort, L, L, 0, dev.unmask.env.mdp.Reward.DEFAULT);
        List<Trajectory> batch = new ArrayList<>();
        for (Example e : sort.dataset(Split.TRAIN, 1, 4)) batch.add(new Trajectory(e, 0));
        RolloutCollector.collect(env, new LearnedPolicy(trainer.net(), 1.0, true, "t"), batch, 5, false);
        Advantages.groupRelative(batch);
        // recompute each step's log-probability from the stored window: must equal what was recorded
        for (Trajectory t : batch) {
            assertEquals(t.result.nfe(), t.steps.size());
            for (StepSample s : t.steps) {
                int w = s.eligible().length;
                float[][] logits = trainer.net().logits(new PolicyNet.Window(s.features(), s.keyBias(), new boolean[][]{s.eligible()}, new int[1], 1, w));
                double lp = 0;
                for (int j = 0; j < w; j++) {
                    if (!s.eligible()[j]) continue;
                    double p = 1 / (1 + Math.exp(-logits[0][j]));
                    lp += Math.log(s.sampled()[j] ? p : 1 - p);
                }
                assertEquals(lp, s.logProb(), 1e-4);
            }
        }
    }

    @Test
    void grpoLearnsTheKnownRuleAndBeatsTheUntrainedPolicy() {
        ChainDenoiser d = dllm();
        PolicyTrainer trainer = new PolicyTrainer(config("grpo", 15, false), d);
        List<Example> evalSet = sort.dataset(Split.TEST, 7, 40);
        double before = Evaluator.evaluate(d, sort, L, L, new LearnedPolicy(trainer.net(), 1.0, true, "t"), evalSet, Split.TEST, 40, 7, null).row().meanReward();
        for (int i = 0; i < 15; i++) {
            var r = trainer.runIteration();
            assertTrue(Double.isFinite(r.loss()));
        }
        double after = Evaluator.evaluate(d, sort, L, L, new LearnedPolicy(trainer.net(), 1.0, true, "t"), evalSet, Split.TEST, 40, 7, null).row().meanReward();
        assertTrue(after > before + 0.1, "mean reward " + before + " -> " + after);
    }

    @Test
    void ppoRunsAndResumesExactly(@TempDir Path dir) throws Exception {
        ChainDenoiser d = dllm();
        PolicyTrainer a = new PolicyTrainer(config("ppo", 4, false), d);
        a.runIteration();
        a.saveState(dir);
        var ra = a.runIteration();
        // as if killed between the two renames of the next save: only trainer-state.old is left
        java.nio.file.Files.move(dir.resolve(PolicyTrainer.STATE_DIR), dir.resolve(PolicyTrainer.STATE_DIR + ".old"));
        PolicyTrainer b = new PolicyTrainer(config("ppo", 4, false), d);
        assertTrue(b.resume(dir));
        assertEquals(1, b.iteration());
        var rb = b.runIteration();
        assertEquals(ra.meanReward(), rb.meanReward(), 0);
        assertEquals(ra.loss(), rb.loss(), 0);
        var wa = a.net().weights();
        var wb = b.net().weights();
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), 0f, k);
    }
}
