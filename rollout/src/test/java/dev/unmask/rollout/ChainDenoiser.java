package dev.unmask.rollout;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Task;

import java.util.*;

/**
 * A synthetic dLLM where the right unmasking rule is known: every eighth buffer position is "hard",
 * its prediction correct (confidence 0.9) only once its left neighbour is unmasked, and before that
 * a wrong digit with confidence 0.35; all other positions are right with confidence 0.9. Unmasking
 * a hard position too early ruins the answer, so the best policy unmasks exactly the confident
 * positions, many per step; a random policy is right only now and then.
 */
final class ChainDenoiser implements Denoiser {
    private final Vocabulary vocab = Vocabulary.builtin();

    /** The buffer's reference tokens, worked out from the sort prompt itself. */
    private int[] target(int[] seq, int promptLen, int genLength) {
        String prompt = vocab.decode(Arrays.copyOf(seq, promptLen));
        String body = prompt.substring("<sort>".length(), prompt.length() - 1);
        String[] nums = body.split(",");
        Arrays.sort(nums);
        return Task.targetSequence(vocab, new Example("sort", body, prompt, String.join(",", nums)), genLength);
    }

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
            int[] s = sequences[b];
            int promptLen = 0;
            while (vocab.token(s[promptLen]).charAt(0) != '=') promptLen++;
            promptLen++; // the prompt ends with '='
            int[] target = target(s, promptLen, s.length - promptLen);
            top1[b] = new int[s.length];
            conf[b] = new float[s.length];
            top2[b] = new float[s.length];
            ent[b] = new float[s.length];
            for (int i = 0; i < s.length; i++) {
                if (!query[b][i]) {
                    top1[b][i] = -1;
                    conf[b][i] = top2[b][i] = ent[b][i] = Float.NaN;
                    continue;
                }
                boolean hard = (i - promptLen) % 8 == 7;
                boolean ready = !hard || s[i - 1] != vocab.maskId();
                top1[b][i] = ready ? target[i] : vocab.id("9");
                conf[b][i] = ready ? 0.9f : 0.35f;
                top2[b][i] = 1 - conf[b][i];
                ent[b][i] = ready ? 0.3f : 1.2f;
            }
        }
        return new Predictions(top1, conf, top2, ent, null);
    }

    @Override
    public String describe() {
        return "chain";
    }
}
