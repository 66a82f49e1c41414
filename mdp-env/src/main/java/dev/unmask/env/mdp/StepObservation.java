package dev.unmask.env.mdp;

import java.util.SplittableRandom;

/**
 * What a policy sees at one step, for each still-running episode (row), indexed by position in
 * the generation buffer (0..L-1). Built one way, with {@link #builder(int, int)}.
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
 *   <li>hidden: only when the policy asks for it ({@link UnmaskPolicy#readsHidden()}), else null:
 *       hidden[row][pos * HiddenFeatures.WIDTH + k], the dLLM's hidden-state features of every buffer position.</li>
 *   <li>vocabularySize: the size of the dLLM's vocabulary, the bound ln(vocabularySize) of the entropy;
 *       0 when the environment did not say.</li>
 * </ul>
 *
 * <p>The one thing a policy writes rather than reads goes to {@link #fallbacks()}: a report,
 * fresh with every observation, of the rows whose selection was the policy's own fallback.
 */
public final class StepObservation {
    private final int genLength, blockLength;
    private final float[][] confidence, margin, entropy;
    private final boolean[][] masked, eligible;
    private final int[] blockStart, blockIndex, stepInBlock, maskedAtBlockStart;
    private final int[] step;
    private final SplittableRandom[] rng;
    private final int[] episodeIds;
    private final float[][][] recentKl;
    private final boolean[][] topIsEos;
    private final float[][] hidden;
    private final int vocabularySize;
    private final FallbackReport fallbacks;

    private StepObservation(Builder b) {
        this.genLength = b.genLength;
        this.blockLength = b.blockLength;
        this.confidence = b.confidence;
        this.margin = b.margin;
        this.entropy = b.entropy;
        this.masked = b.masked;
        this.eligible = b.eligible;
        this.blockStart = b.blockStart;
        this.blockIndex = b.blockIndex;
        this.stepInBlock = b.stepInBlock;
        this.maskedAtBlockStart = b.maskedAtBlockStart;
        this.step = b.step;
        this.rng = b.rng;
        this.episodeIds = b.episodeIds;
        this.recentKl = b.recentKl;
        this.topIsEos = b.topIsEos;
        this.hidden = b.hidden;
        this.vocabularySize = b.vocabularySize;
        this.fallbacks = new FallbackReport(b.confidence.length);
    }

    /** An observation of a buffer of genLength positions decoded in blocks of blockLength. */
    public static Builder builder(int genLength, int blockLength) {
        return new Builder(genLength, blockLength);
    }

    /** A builder holding everything this observation holds (a fresh fallback report comes with what it builds). */
    public Builder toBuilder() {
        return builder(genLength, blockLength).statistics(confidence, margin, entropy).masks(masked, eligible)
                .blocks(blockStart, blockIndex, stepInBlock, maskedAtBlockStart).episodes(step, rng, episodeIds)
                .recentKl(recentKl).topIsEos(topIsEos).hidden(hidden).vocabularySize(vocabularySize);
    }

    /**
     * Which rows' selections were the policy's own fallback (its rule chose nothing and it picked a
     * position anyway, as the learned policy does). The policy writes it, the environment reads it
     * when it applies the step, and counts those steps as fallbacks just as it counts an empty
     * selection it has to fill itself.
     */
    public static final class FallbackReport {
        private final boolean[] reported;

        FallbackReport(int rows) {
            this.reported = new boolean[rows];
        }

        /** Row {@code row}'s selection is the policy's own fallback. */
        public void report(int row) {
            reported[row] = true;
        }

        public boolean reported(int row) {
            return reported[row];
        }
    }

    /** Builds a {@link StepObservation}; statistics, masks, blocks and episodes are required, recentKl and topIsEos optional (null), vocabularySize optional (0). */
    public static final class Builder {
        private final int genLength, blockLength;
        private float[][] confidence, margin, entropy;
        private boolean[][] masked, eligible;
        private int[] blockStart, blockIndex, stepInBlock, maskedAtBlockStart;
        private int[] step;
        private SplittableRandom[] rng;
        private int[] episodeIds;
        private float[][][] recentKl;
        private boolean[][] topIsEos;
        private float[][] hidden;
        private int vocabularySize;

        private Builder(int genLength, int blockLength) {
            this.genLength = genLength;
            this.blockLength = blockLength;
        }

        /** The dLLM's statistics per row and buffer position. */
        public Builder statistics(float[][] confidence, float[][] margin, float[][] entropy) {
            this.confidence = confidence;
            this.margin = margin;
            this.entropy = entropy;
            return this;
        }

        public Builder masks(boolean[][] masked, boolean[][] eligible) {
            this.masked = masked;
            this.eligible = eligible;
            return this;
        }

        /** Per row: the active block's first position and index, steps spent in it, and its masked positions when it became active. */
        public Builder blocks(int[] blockStart, int[] blockIndex, int[] stepInBlock, int[] maskedAtBlockStart) {
            this.blockStart = blockStart;
            this.blockIndex = blockIndex;
            this.stepInBlock = stepInBlock;
            this.maskedAtBlockStart = maskedAtBlockStart;
            return this;
        }

        /** Per row: steps so far in the episode, the episode's random stream, and its id in the environment. */
        public Builder episodes(int[] step, SplittableRandom[] rng, int[] episodeIds) {
            this.step = step;
            this.rng = rng;
            this.episodeIds = episodeIds;
            return this;
        }

        public Builder recentKl(float[][][] recentKl) {
            this.recentKl = recentKl;
            return this;
        }

        public Builder topIsEos(boolean[][] topIsEos) {
            this.topIsEos = topIsEos;
            return this;
        }

        /** Per row, {@code HiddenFeatures.WIDTH} floats per buffer position (or null). */
        public Builder hidden(float[][] hidden) {
            this.hidden = hidden;
            return this;
        }

        /** The dLLM's vocabulary size (what the entropy feature is scaled by). */
        public Builder vocabularySize(int vocabularySize) {
            this.vocabularySize = vocabularySize;
            return this;
        }

        public StepObservation build() {
            if (confidence == null || margin == null || entropy == null) throw new IllegalStateException("an observation needs the statistics");
            if (masked == null || eligible == null) throw new IllegalStateException("an observation needs the masks");
            if (blockStart == null || blockIndex == null || stepInBlock == null || maskedAtBlockStart == null) throw new IllegalStateException("an observation needs the blocks");
            if (step == null || rng == null || episodeIds == null) throw new IllegalStateException("an observation needs the episodes");
            return new StepObservation(this);
        }
    }

    public int genLength() {
        return genLength;
    }

    public int blockLength() {
        return blockLength;
    }

    /** Blocks in the buffer: genLength / blockLength. */
    public int numBlocks() {
        return genLength / blockLength;
    }

    public float[][] confidence() {
        return confidence;
    }

    public float[][] margin() {
        return margin;
    }

    public float[][] entropy() {
        return entropy;
    }

    public boolean[][] masked() {
        return masked;
    }

    public boolean[][] eligible() {
        return eligible;
    }

    public int[] blockStart() {
        return blockStart;
    }

    public int[] blockIndex() {
        return blockIndex;
    }

    public int[] stepInBlock() {
        return stepInBlock;
    }

    public int[] maskedAtBlockStart() {
        return maskedAtBlockStart;
    }

    public int[] step() {
        return step;
    }

    public SplittableRandom[] rng() {
        return rng;
    }

    public int[] episodeIds() {
        return episodeIds;
    }

    /** Null unless the policy asked for a KL history. */
    public float[][][] recentKl() {
        return recentKl;
    }

    /** Null when the environment did not say (observations built by hand). */
    public boolean[][] topIsEos() {
        return topIsEos;
    }

    /** The hidden-state features, or null unless the policy asked for them ({@link UnmaskPolicy#readsHidden()}). */
    public float[][] hidden() {
        return hidden;
    }

    /** The dLLM's vocabulary size, or 0 when the environment did not say (observations built by hand). */
    public int vocabularySize() {
        return vocabularySize;
    }

    /** Where the policy reports the rows whose selection was its own fallback. */
    public FallbackReport fallbacks() {
        return fallbacks;
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
