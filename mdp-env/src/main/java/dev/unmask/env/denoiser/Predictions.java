package dev.unmask.env.denoiser;

/**
 * What the dLLM says about each queried position, indexed [row][position] (same shape as the
 * input). Positions that were not queried hold top1 = -1 and NaN statistics.
 *
 * <p>confidence = p(top-1 token), margin = p(top-1) - p(top-2), entropy in nats.
 * distributions[row][position] is null unless asked for and queried.
 */
public record Predictions(int[][] top1, float[][] confidence, float[][] top2Prob, float[][] entropy,
                          float[][][] distributions, float[][] hidden) {

    /**
     * Without hidden-state features. With them ({@link Denoiser#predictWithHidden}), hidden[row] holds
     * {@link HiddenFeatures#WIDTH} floats per token of the row, position-major.
     */
    public Predictions(int[][] top1, float[][] confidence, float[][] top2Prob, float[][] entropy, float[][][] distributions) {
        this(top1, confidence, top2Prob, entropy, distributions, null);
    }

    /** These predictions with each row's hidden-state features added. */
    public Predictions withHidden(float[][] hiddenFeatures) {
        return new Predictions(top1, confidence, top2Prob, entropy, distributions, hiddenFeatures);
    }

    public float margin(int row, int pos) {
        return confidence[row][pos] - top2Prob[row][pos];
    }

    /**
     * Turns logits into statistics: a numerically stable softmax per queried position. Shared by
     * every denoiser so they agree to the last bit on how confidence, margin and entropy are defined.
     *
     * @param logits flat logits of a (rows x maxLen x vocab) tensor; row b's tokens sit at
     *               positions 0..len-1 (right padding)
     */
    public static Predictions fromLogits(float[] logits, int maxLen, int vocab, boolean[][] query,
                                         boolean withDistributions) {
        return fromLogits(logits, maxLen, vocab, query, withDistributions, -1);
    }

    /**
     * As above, but token {@code neverPredict} (the mask id) is never the top-1 or top-2 choice:
     * a model that puts most mass on [MASK] would otherwise write the mask back and the episode
     * would never end. The distribution and entropy are reported unchanged.
     */
    public static Predictions fromLogits(float[] logits, int maxLen, int vocab, boolean[][] query,
                                         boolean withDistributions, int neverPredict) {
        int rows = query.length;
        int[][] top1 = new int[rows][];
        float[][] conf = new float[rows][], top2 = new float[rows][], ent = new float[rows][];
        float[][][] dist = new float[rows][][];
        float[] p = new float[vocab];
        for (int b = 0; b < rows; b++) {
            int len = query[b].length;
            top1[b] = new int[len];
            conf[b] = new float[len];
            top2[b] = new float[len];
            ent[b] = new float[len];
            dist[b] = new float[len][];
            for (int i = 0; i < len; i++) {
                if (!query[b][i]) {
                    top1[b][i] = -1;
                    conf[b][i] = top2[b][i] = ent[b][i] = Float.NaN;
                    continue;
                }
                int base = (b * maxLen + i) * vocab;
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    p[v] = (float) Math.exp(logits[base + v] - max);
                    sum += p[v];
                }
                int best = 0;
                float bestP = -1, secondP = 0;
                double h = 0;
                for (int v = 0; v < vocab; v++) {
                    p[v] = (float) (p[v] / sum);
                    if (v == neverPredict) {
                        if (p[v] > 0) h -= p[v] * Math.log(p[v]);
                        continue;
                    }
                    if (p[v] > bestP) {
                        secondP = bestP < 0 ? 0 : bestP;
                        bestP = p[v];
                        best = v;
                    } else if (p[v] > secondP) {
                        secondP = p[v];
                    }
                    if (p[v] > 0) h -= p[v] * Math.log(p[v]);
                }
                top1[b][i] = best;
                conf[b][i] = bestP;
                top2[b][i] = secondP;
                ent[b][i] = (float) h;
                if (withDistributions) dist[b][i] = p.clone();
            }
        }
        return new Predictions(top1, conf, top2, ent, withDistributions ? dist : null);
    }
}
