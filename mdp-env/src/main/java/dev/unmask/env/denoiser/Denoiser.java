package dev.unmask.env.denoiser;

import dev.unmask.env.UnmaskException;

/**
 * A frozen masked diffusion language model. One call is one forward pass over the whole batch,
 * whatever number of positions is asked about, so one step of the environment costs one NFE.
 * Implementations accept batches of 1 to 256 sequences of possibly different lengths, each at most
 * {@link #maxLength()} tokens long.
 */
public interface Denoiser extends AutoCloseable {
    Vocabulary vocabulary();

    int maxLength();

    /**
     * @param sequences token ids, one row per sequence (rows may differ in length)
     * @param query     for each row, the positions to report on (usually those holding the mask id)
     * @param withDistributions also return the full distribution at each queried position
     */
    Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions);

    /**
     * As {@link #predict}, with every token's hidden-state features ({@link HiddenFeatures}: the
     * last hidden layer, projected to a small width) in {@link Predictions#hidden()}. A dLLM that
     * cannot say refuses in one line.
     */
    default Predictions predictWithHidden(int[][] sequences, boolean[][] query, boolean withDistributions) {
        throw new UnmaskException("the dLLM " + describe() + " offers no hidden-state features (the built-in dLLM does on --dllm-engine onnxruntime or fast)");
    }

    /** A short description for manifests and reports (e.g. "builtin:d128-l4 sha256=..."). */
    String describe();

    @Override
    default void close() {
    }

    /** Checks the caller's input once, for every implementation, with one-line messages. */
    static void validate(Denoiser d, int[][] sequences, boolean[][] query) {
        if (sequences.length == 0 || sequences.length > 256) {
            throw new UnmaskException("batch size " + sequences.length + " is outside 1..256");
        }
        if (query.length != sequences.length) throw new IllegalArgumentException("query has " + query.length + " rows for " + sequences.length + " sequences");
        int v = d.vocabulary().size();
        for (int b = 0; b < sequences.length; b++) {
            int[] s = sequences[b];
            if (s.length == 0 || s.length > d.maxLength()) {
                throw new UnmaskException("sequence " + b + " has " + s.length + " tokens; the model allows 1.." + d.maxLength());
            }
            if (query[b].length != s.length) throw new IllegalArgumentException("query row " + b + " length " + query[b].length + " != sequence length " + s.length);
            for (int i = 0; i < s.length; i++) {
                if (s[i] < 0 || s[i] >= v) {
                    throw new UnmaskException("sequence " + b + " position " + i + " holds token id " + s[i] + ", outside the vocabulary 0.." + (v - 1));
                }
            }
        }
    }
}
