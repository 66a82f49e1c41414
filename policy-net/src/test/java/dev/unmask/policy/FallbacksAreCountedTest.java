package dev.unmask.policy;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FallbacksAreCountedTest {
    /** Predicts the digit 1 with confidence 0.8 at every queried position. */
    static final class ConstantDenoiser implements Denoiser {
        private final Vocabulary vocab = Vocabulary.builtin();

        @Override
        public Vocabulary vocabulary() {
            return vocab;
        }

        @Override
        public int maxLength() {
            return 96;
        }

        @Override
        public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
            int rows = sequences.length;
            int[][] top1 = new int[rows][];
            float[][] conf = new float[rows][], top2 = new float[rows][], ent = new float[rows][];
            for (int b = 0; b < rows; b++) {
                int n = sequences[b].length;
                top1[b] = new int[n];
                conf[b] = new float[n];
                top2[b] = new float[n];
                ent[b] = new float[n];
                for (int i = 0; i < n; i++) {
                    top1[b][i] = query[b][i] ? vocab.id("1") : -1;
                    conf[b][i] = query[b][i] ? 0.8f : Float.NaN;
                    top2[b][i] = query[b][i] ? 0.1f : Float.NaN;
                    ent[b][i] = query[b][i] ? 0.7f : Float.NaN;
                }
            }
            return new Predictions(top1, conf, top2, ent, null);
        }

        @Override
        public String describe() {
            return "constant";
        }
    }

    private static PolicyModel withHeadBias(PolicyModel net, float bias) {
        Map<String, Safetensors.Tensor> w = net.weights();
        w.put("head.bias", new Safetensors.Tensor(new long[]{1}, new float[]{bias}));
        return new JavaPolicyNet(net.config(), w, "test");
    }

    @Test
    void aPolicyThatNeverChoosesFallsBackOnEveryStepAndTheRowSaysSo() {
        PolicyModel net = withHeadBias(JavaPolicyNet.initial(PolicyConfig.defaults(3)), -40); // p ~ 4e-18: nothing is ever drawn
        Task sort = Tasks.byName("sort");
        var prompts = sort.dataset(Split.TEST, 5, 6);
        for (boolean sample : new boolean[]{false, true}) {
            for (int block : new int[]{8, 32}) {
                EvalRow row = Evaluator.evaluate(new ConstantDenoiser(), sort, 32, block, new LearnedPolicy(net, 1.0, sample, "t"),
                        prompts, Split.TEST, 4, 9, null).row();
                assertEquals(32.0, row.meanNfe(), 0, "one position per step");
                assertEquals(6 * 32, row.fallbackSteps(), "sample=" + sample + " B=" + block + ": every step is the policy's fallback");
            }
        }
        // a policy that always chooses by itself has no fallback steps
        net = withHeadBias(net, 40);
        EvalRow all = Evaluator.evaluate(new ConstantDenoiser(), sort, 32, 8, new LearnedPolicy(net, 1.0, false, "t"),
                prompts, Split.TEST, 4, 9, null).row();
        assertEquals(4.0, all.meanNfe(), 0, "a whole block per step");
        assertEquals(0, all.fallbackSteps());
    }
}
