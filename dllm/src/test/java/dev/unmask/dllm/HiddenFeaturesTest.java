package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The built-in dLLM's hidden-state features on the fast engine, and the environment handing them to a policy. */
class HiddenFeaturesTest {
    private static final DllmConfig CONFIG = new DllmConfig(16, 2, 2, 32, 64, 5, true, false, true);

    @Test
    void everyTokensFeaturesAreTheProjectedLastHiddenStateWhateverTheBatch() {
        BuiltinDllm model = FastDllmTest.sharp(CONFIG);
        FastDllm fast = FastDllm.of(model);
        Vocabulary v = Vocabulary.builtin();
        int[][] batch = FastDllmTest.mixedBatch(v, 4, 40, 3);
        boolean[][] query = new boolean[batch.length][];
        for (int b = 0; b < batch.length; b++) query[b] = new boolean[batch[b].length];
        Predictions with = fast.predictWithHidden(batch, query, false);
        ReferenceForward ref = new ReferenceForward(CONFIG, v.size(), model.weights());
        float[] p = HiddenFeatures.projection(CONFIG.dModel());
        int w = HiddenFeatures.WIDTH;
        for (int b = 0; b < batch.length; b++) {
            assertEquals(batch[b].length * w, with.hidden()[b].length);
            double[][] h = ref.hidden(batch[b]);
            for (int i = 0; i < batch[b].length; i++) {
                for (int k = 0; k < w; k++) {
                    double want = 0;
                    for (int j = 0; j < CONFIG.dModel(); j++) want += h[i][j] * p[j * w + k];
                    assertEquals(want, with.hidden()[b][i * w + k], 1e-4 * (1 + Math.abs(want)), "row " + b + " position " + i + " feature " + k);
                }
            }
        }
        // a row alone gives what it gave in the padded batch
        Predictions alone = fast.predictWithHidden(new int[][]{batch[2]}, new boolean[][]{query[2]}, false);
        assertArrayEquals(with.hidden()[2], alone.hidden()[0], 1e-5f);
        // the projection is fixed: the same matrix every time, of order 1 / sqrt(d)
        assertArrayEquals(p, HiddenFeatures.projection(CONFIG.dModel()), 0f);
        double meanSquare = 0;
        for (float x : p) meanSquare += x * x / p.length;
        assertTrue(meanSquare > 0.5 / CONFIG.dModel() && meanSquare < 2.0 / CONFIG.dModel(), "entries of variance 1/d: " + meanSquare);
    }

    /** Records what it was shown; unmasks the lowest eligible position. */
    private static final class HiddenReader implements UnmaskPolicy {
        final List<StepObservation> seen = new ArrayList<>();

        @Override
        public String name() {
            return "hidden-reader";
        }

        @Override
        public Map<String, Object> params() {
            return Map.of();
        }

        @Override
        public boolean readsHidden() {
            return true;
        }

        @Override
        public boolean[][] select(StepObservation obs) {
            seen.add(obs);
            boolean[][] a = new boolean[obs.rows()][obs.genLength()];
            for (int r = 0; r < obs.rows(); r++) {
                for (int i = 0; i < obs.genLength(); i++) {
                    if (obs.eligible()[r][i]) {
                        a[r][i] = true;
                        break;
                    }
                }
            }
            return a;
        }
    }

    @Test
    void theEnvironmentHandsEachBufferPositionsFeaturesToAPolicyThatAsksAndRefusesADllmWithout() {
        FastDllm fast = FastDllm.of(FastDllmTest.sharp(CONFIG));
        Task sort = Tasks.byName("sort");
        var prompts = sort.dataset(Split.TEST, 3, 2);
        UnmaskingEnv env = new UnmaskingEnv(fast, sort, 16, 8, 0, Reward.DEFAULT);
        HiddenReader policy = new HiddenReader();
        env.run(prompts, 1, policy);
        assertFalse(policy.seen.isEmpty());
        StepObservation first = policy.seen.get(0);
        int w = HiddenFeatures.WIDTH;
        for (int r = 0; r < first.rows(); r++) {
            assertEquals(16 * w, first.hidden()[r].length, "buffer positions only");
            // the same numbers as the dLLM gives for the prompt followed by a masked buffer
            Vocabulary v = fast.vocabulary();
            int[] prompt = v.encode(prompts.get(r).prompt());
            int[] seq = new int[prompt.length + 16];
            System.arraycopy(prompt, 0, seq, 0, prompt.length);
            for (int i = prompt.length; i < seq.length; i++) seq[i] = v.maskId();
            float[] h = fast.predictWithHidden(new int[][]{seq}, new boolean[][]{new boolean[seq.length]}, false).hidden()[0];
            for (int i = 0; i < 16 * w; i++) assertEquals(h[prompt.length * w + i], first.hidden()[r][i], 1e-5f);
        }
        // a policy that reads none gets none
        List<StepObservation> plain = new ArrayList<>();
        env.run(prompts, 1, new UnmaskPolicy() {
            public String name() {
                return "plain";
            }

            public Map<String, Object> params() {
                return Map.of();
            }

            public boolean[][] select(StepObservation obs) {
                plain.add(obs);
                return policy.select(obs);
            }
        });
        assertNull(plain.get(0).hidden());
        // a dLLM that offers none: one line
        UnmaskingEnv onGraph = new UnmaskingEnv(FastDllmTest.sharp(CONFIG), sort, 16, 8, 0, Reward.DEFAULT);
        UnmaskException e = assertThrows(UnmaskException.class, () -> onGraph.run(prompts, 1, new HiddenReader()));
        assertTrue(e.getMessage().contains("offers no hidden-state features") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
