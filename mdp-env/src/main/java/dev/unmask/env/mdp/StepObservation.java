package dev.unmask.env.mdp;

import java.util.SplittableRandom;

/**
 * What a policy sees at one step, for each still-running episode (row), indexed by position in
 * the generation buffer (0..L-1).
 *
 * <ul>
 *   <li>confidence, margin, entropy: the dLLM's statistics at masked positions (NaN elsewhere);</li>
 *   <li>masked: position still holds the mask token; eligible: masked and inside the active block;</li>
 *   <li>blockStart/blockIndex: where the active block starts and which block it is;</li>
 *   <li>stepInBlock: steps already spent in the active block; maskedAtBlockStart: masked positions
 *       the block had when it became active (rule 2's schedule needs both);</li>
 *   <li>step: steps so far in the episode; rng: the episode's own random stream, so a sampled
 *       decision does not depend on which other episodes share the batch.</li>
 *   <li>recentKl: only when the policy asks for it ({@link UnmaskPolicy#klHistory()}), else null.
 *       recentKl[row][pos][h] is KL(p_now || p_before) of the position's predictive distribution
 *       between consecutive steps, h = 0 the latest change, h = 1 the one before, ...; NaN where the
 *       position has not been observed that often yet (KLASS's stability test needs it).</li>
 *   <li>topIsEos: where the dLLM's most probable token is the end-of-sequence token, or null when the
 *       environment did not say (observations built by hand in tests).</li>
 *   <li>fallbackReported: written by the policy, not read by it: see {@link #reportFallback(int)}.</li>
 * </ul>
 */
public record StepObservation(int genLength, int blockLength, int numBlocks,
                              float[][] confidence, float[][] margin, float[][] entropy,
                              boolean[][] masked, boolean[][] eligible,
                              int[] blockStart, int[] blockIndex, int[] stepInBlock, int[] maskedAtBlockStart,
                              int[] step, SplittableRandom[] rng, int[] episodeIds, float[][][] recentKl,
                              boolean[] fallbackReported, boolean[][] topIsEos) {
    /** With KL history and where the top token is EOS, and no fallback reported yet (what the environment builds). */
    public StepObservation(int genLength, int blockLength, int numBlocks,
                           float[][] confidence, float[][] margin, float[][] entropy,
                           boolean[][] masked, boolean[][] eligible,
                           int[] blockStart, int[] blockIndex, int[] stepInBlock, int[] maskedAtBlockStart,
                           int[] step, SplittableRandom[] rng, int[] episodeIds, float[][][] recentKl, boolean[][] topIsEos) {
        this(genLength, blockLength, numBlocks, confidence, margin, entropy, masked, eligible, blockStart, blockIndex,
                stepInBlock, maskedAtBlockStart, step, rng, episodeIds, recentKl, new boolean[confidence.length], topIsEos);
    }

    /** With KL history, and no fallback reported yet. */
    public StepObservation(int genLength, int blockLength, int numBlocks,
                           float[][] confidence, float[][] margin, float[][] entropy,
                           boolean[][] masked, boolean[][] eligible,
                           int[] blockStart, int[] blockIndex, int[] stepInBlock, int[] maskedAtBlockStart,
                           int[] step, SplittableRandom[] rng, int[] episodeIds, float[][][] recentKl) {
        this(genLength, blockLength, numBlocks, confidence, margin, entropy, masked, eligible, blockStart, blockIndex,
                stepInBlock, maskedAtBlockStart, step, rng, episodeIds, recentKl, new boolean[confidence.length], null);
    }

    /** Without KL history (what every policy but KLASS sees). */
    public StepObservation(int genLength, int blockLength, int numBlocks,
                           float[][] confidence, float[][] margin, float[][] entropy,
                           boolean[][] masked, boolean[][] eligible,
                           int[] blockStart, int[] blockIndex, int[] stepInBlock, int[] maskedAtBlockStart,
                           int[] step, SplittableRandom[] rng, int[] episodeIds) {
        this(genLength, blockLength, numBlocks, confidence, margin, entropy, masked, eligible, blockStart, blockIndex,
                stepInBlock, maskedAtBlockStart, step, rng, episodeIds, null);
    }

    /**
     * A policy calls this when its selection for a row is its own fallback (its rule chose nothing
     * and it picked a position anyway, as the learned policy does), so the environment counts the
     * step as a fallback just as it counts an empty selection it has to fill itself.
     */
    public void reportFallback(int row) {
        fallbackReported[row] = true;
    }

    public int rows() {
        return confidence.length;
    }

    /** Number of eligible positions of a row. */
    public int eligibleCount(int row) {
        int n = 0;
        for (boolean e : eligible[row]) if (e) n++;
        return n;
    }
}
