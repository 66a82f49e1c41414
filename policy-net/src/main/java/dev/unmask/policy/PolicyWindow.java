package dev.unmask.policy;

import dev.unmask.env.mdp.StepObservation;

/**
 * The policy network's input for one step: per running episode, W positions with F features each
 * ({@link PolicyInputs}'s layout), the attention's key bias (0, or -1e9 on a block window's
 * ineligible positions) and which positions may be unmasked.
 *
 * @param features   [rows * width * F] row-major
 * @param keyBias    [rows * width]
 * @param eligible   [rows][width], or null where only the network's outputs are wanted
 * @param blockStart each row's first buffer position in the window
 */
public record PolicyWindow(float[] features, float[] keyBias, boolean[][] eligible, int[] blockStart, int rows, int width) {

    /**
     * The window a policy of this configuration reads at one step; {@code knobByRow} gives each
     * row's knob (the {@link PolicyFeatures#KNOB} feature), or null for a policy that reads none. A
     * block window attends to its eligible positions only (-1e9 on the others), a whole-buffer one
     * to every position.
     */
    public static PolicyWindow of(PolicyConfig config, StepObservation o, float[] knobByRow) {
        boolean wholeBuffer = config.seesWholeBuffer();
        PolicyInputs in = PolicyInputs.of(config.parsedFeatures(), o, knobByRow, wholeBuffer);
        int rows = in.rows(), w = in.width();
        float[] bias = new float[rows * w];
        boolean[][] eligible = new boolean[rows][w];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < w; j++) {
                eligible[r][j] = in.eligible(r, j);
                if (!eligible[r][j] && !wholeBuffer) bias[r * w + j] = -1e9f;
            }
        }
        return new PolicyWindow(in.features(), bias, eligible, in.blockStart(), rows, w);
    }

    /** sin/cos encoding of the index inside the window: row j, columns (sin, cos) pairs at geometric frequencies. */
    public static float[] sinusoid(int width, int d) {
        float[] pe = new float[width * d];
        for (int j = 0; j < width; j++) {
            for (int i = 0; i < d / 2; i++) {
                double freq = Math.pow(10000.0, -2.0 * i / d);
                pe[j * d + 2 * i] = (float) Math.sin(j * freq);
                pe[j * d + 2 * i + 1] = (float) Math.cos(j * freq);
            }
        }
        return pe;
    }
}
