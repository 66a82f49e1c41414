package dev.unmask.env.denoiser;

/**
 * A denoiser that is told where each sequence's active block lies, so it can reuse work across
 * the steps of a block (Fast-dLLM's approximate key/value caches). The environment calls
 * {@link #startEpisodes} at every reset and then {@link #predictInBlocks} once per step (one NFE).
 */
public interface BlockAwareDenoiser extends Denoiser {
    /** Forgets everything cached; episodes are then numbered 0..count-1. */
    void startEpisodes(int count);

    /**
     * One forward pass for the running episodes.
     *
     * @param episodes   each row's episode number (stable across the steps of a run)
     * @param blockStart each row's active block, [blockStart, blockEnd) in sequence positions
     */
    Predictions predictInBlocks(int[] episodes, int[][] sequences, boolean[][] query, int[] blockStart, int[] blockEnd,
                                boolean withDistributions);
}
