package dev.unmask.env.denoiser;

import java.util.Random;

/**
 * A dLLM's last hidden layer as policy features: each token's hidden vector h (width d, after the
 * final LayerNorm) projected to {@link #WIDTH} numbers, h P with P a fixed Gaussian [d, WIDTH]
 * matrix scaled by 1/sqrt(d) (drawn from {@code new Random(SEED)}, row-major), so a feature is
 * the same function of h wherever it is computed, and of order 1 whatever d is.
 */
public final class HiddenFeatures {
    /** Numbers per token. */
    public static final int WIDTH = 8;
    public static final long SEED = 20261207L;

    private HiddenFeatures() {
    }

    /** The projection P for hidden width d, [d, WIDTH] row-major. */
    public static float[] projection(int d) {
        Random rng = new Random(SEED);
        float[] p = new float[d * WIDTH];
        double scale = 1 / Math.sqrt(d);
        for (int i = 0; i < p.length; i++) p[i] = (float) (rng.nextGaussian() * scale);
        return p;
    }

    /** out[outAt + k] = sum_j h[hAt + j] P[j][k] for k < WIDTH, each sum in index order. */
    public static void project(float[] h, int hAt, int d, float[] projection, float[] out, int outAt) {
        for (int k = 0; k < WIDTH; k++) {
            float s = 0;
            for (int j = 0; j < d; j++) s += h[hAt + j] * projection[j * WIDTH + k];
            out[outAt + k] = s;
        }
    }
}
