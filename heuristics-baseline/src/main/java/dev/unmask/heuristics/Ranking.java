package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;

import java.util.Arrays;
import java.util.Comparator;

/** Shared helpers: eligible positions ranked by a score, ties broken by lowest position. */
final class Ranking {
    private Ranking() {
    }

    interface Score {
        double of(StepObservation obs, int row, int pos);
    }

    /** Eligible positions of a row, best (highest score) first; equal scores: lower position first. */
    static int[] rank(StepObservation obs, int row, Score score) {
        Integer[] idx = new Integer[obs.eligibleCount(row)];
        double[] s = new double[obs.genLength()];
        int n = 0;
        for (int i = 0; i < obs.genLength(); i++) {
            if (obs.eligible()[row][i]) {
                idx[n++] = i;
                s[i] = score.of(obs, row, i);
            }
        }
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparingInt(i -> i));
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    /** Marks the first k of a ranking. */
    static boolean[] take(int genLength, int[] ranked, int k) {
        boolean[] out = new boolean[genLength];
        for (int j = 0; j < Math.min(k, ranked.length); j++) out[ranked[j]] = true;
        return out;
    }

    /** A step budget is split evenly over the blocks, so it must be a multiple of their number. */
    static void requireBudgetFitsBlocks(StepObservation obs, int totalSteps) {
        if (totalSteps % obs.numBlocks() != 0) {
            throw new UnmaskException("step budget " + totalSteps + " is not a multiple of the " + obs.numBlocks() + " blocks");
        }
    }

    /**
     * LLaDA's linear schedule: a block with M masked positions and s steps unmasks M / s positions
     * per step, plus one for the first M mod s steps; never fewer than one, and everything left once
     * the block's budget is spent.
     */
    static int scheduled(StepObservation obs, int row, int totalSteps) {
        int stepsPerBlock = totalSteps / obs.numBlocks();
        int m = obs.maskedAtBlockStart()[row], j = obs.stepInBlock()[row];
        int k = j >= stepsPerBlock - 1 ? obs.eligibleCount(row) : m / stepsPerBlock + (j < m % stepsPerBlock ? 1 : 0);
        return Math.max(1, k);
    }
}
