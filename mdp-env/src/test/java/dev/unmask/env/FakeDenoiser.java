package dev.unmask.env;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Task;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A test denoiser that knows each prompt's reference answer: its top-1 token is always right and
 * its confidence is a fixed function of the position, so tests can predict every decision.
 * Counts its forward passes.
 */
public final class FakeDenoiser implements Denoiser {
    private final Vocabulary vocab = Vocabulary.builtin();
    private final Map<String, int[]> targets = new HashMap<>();
    int calls;
    int maxBatch;
    /** When distributions are asked for: the mass on the right token at the n-th forward pass (1-based); the rest goes to EOS (or to token 0 where EOS is right). */
    java.util.function.IntToDoubleFunction rightMassAtCall = call -> 0.9;

    public FakeDenoiser(Task task, List<Example> examples, int genLength) {
        for (Example e : examples) {
            int[] seq = Task.targetSequence(vocab, e, genLength);
            targets.put(key(seq, vocab.encode(e.prompt()).length), seq);
        }
    }

    private static String key(int[] seq, int promptLen) {
        return java.util.Arrays.toString(java.util.Arrays.copyOf(seq, promptLen));
    }

    static float confidenceAt(int bufferPos) {
        return 0.5f + 0.45f * (float) Math.abs(Math.sin(bufferPos * 1.7));
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
        Denoiser.validate(this, sequences, query);
        calls++;
        maxBatch = Math.max(maxBatch, sequences.length);
        int rows = sequences.length;
        int[][] top1 = new int[rows][];
        float[][] conf = new float[rows][], top2 = new float[rows][], ent = new float[rows][];
        float[][][] dist = withDistributions ? new float[rows][][] : null;
        for (int b = 0; b < rows; b++) {
            if (dist != null) dist[b] = new float[sequences[b].length][];
            int len = sequences[b].length;
            int promptLen = 0;
            while (sequences[b][promptLen] != vocab.maskId() && promptLen < len - 1) promptLen++;
            int[] target = null;
            for (int p = promptLen; p >= 1 && target == null; p--) target = targets.get(java.util.Arrays.toString(java.util.Arrays.copyOf(sequences[b], p)));
            top1[b] = new int[len];
            conf[b] = new float[len];
            top2[b] = new float[len];
            ent[b] = new float[len];
            for (int i = 0; i < len; i++) {
                if (!query[b][i]) {
                    top1[b][i] = -1;
                    conf[b][i] = top2[b][i] = ent[b][i] = Float.NaN;
                    continue;
                }
                top1[b][i] = target[i];
                conf[b][i] = confidenceAt(i);
                top2[b][i] = (1 - conf[b][i]) / 2;
                ent[b][i] = 1 - conf[b][i];
                if (dist != null) {
                    dist[b][i] = new float[vocab.size()];
                    float right = (float) rightMassAtCall.applyAsDouble(calls);
                    dist[b][i][target[i]] = right;
                    dist[b][i][target[i] == vocab.eosId() ? 0 : vocab.eosId()] = 1 - right;
                }
            }
        }
        return new Predictions(top1, conf, top2, ent, dist);
    }

    @Override
    public String describe() {
        return "fake";
    }
}
