package dev.unmask.policy.export;

import java.util.SplittableRandom;

/**
 * The decision rule of {@code LearnedPolicy}, on plain arrays: each eligible position is taken
 * with probability p = sigmoid(logit / temperature), drawn from the episode's stream (sample) or
 * p >= 0.5 (greedy); when nothing is taken, the position with the highest p is (lowest index on ties).
 */
final class Decisions {
    private Decisions() {
    }

    /** @return chosen window indices of one row, never empty when any position is eligible */
    static boolean[] row(float[] logits, int offset, float[] eligible, int width, double temperature, boolean sample, SplittableRandom rng) {
        boolean[] take = new boolean[width];
        int best = -1, chosen = 0;
        double bestP = -1;
        for (int j = 0; j < width; j++) {
            if (eligible[offset + j] == 0f) continue;
            double p = 1 / (1 + Math.exp(-(logits[offset + j] / temperature)));
            boolean t = sample ? rng.nextDouble() < p : p >= 0.5;
            if (t) {
                take[j] = true;
                chosen++;
            }
            if (p > bestP) {
                bestP = p;
                best = j;
            }
        }
        if (chosen == 0 && best >= 0) take[best] = true;
        return take;
    }
}
