package dev.unmask.policy.export;

import dev.unmask.env.mdp.StepObservation;
import dev.unmask.policy.PolicyFeatures;

import java.util.List;

/**
 * The policy's inputs for one step laid out per active-block window, without ND4J: the same
 * values {@code PolicyNet.window} gives the SameDiff graph.
 *
 * @param features [rows * width * F] row-major; zeros where not eligible
 * @param eligible [rows * width]: 1 where the position is masked and in the active block, else 0
 */
public record PolicyInputs(float[] features, float[] eligible, int rows, int width, int[] blockStart) {

    public static PolicyInputs of(List<PolicyFeatures> features, StepObservation o) {
        return of(features, o, Float.NaN);
    }

    /** @param knob the {@link PolicyFeatures#KNOB} value for every row (NaN for a policy that reads none) */
    public static PolicyInputs of(List<PolicyFeatures> features, StepObservation o, float knob) {
        return of(features, o, knob, false);
    }

    /**
     * @param wholeBuffer the window is the whole buffer (a policy with context buffer): every
     *                    position gets its features (the dLLM's statistics 0 where a token is
     *                    written), eligible marks the active block's masked positions
     */
    public static PolicyInputs of(List<PolicyFeatures> features, StepObservation o, float knob, boolean wholeBuffer) {
        if (wholeBuffer) return ofBuffer(features, o, knob);
        int rows = o.rows(), w = o.blockLength(), f = features.size();
        float[] feats = new float[rows * w * f], elig = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            int start = o.blockStart()[r], maskedInBlock = 0;
            for (int j = 0; j < w; j++) if (o.eligible()[r][start + j]) maskedInBlock++;
            for (int j = 0; j < w; j++) {
                int pos = start + j;
                if (!o.eligible()[r][pos]) continue;
                elig[r * w + j] = 1f;
                for (int k = 0; k < f; k++) feats[(r * w + j) * f + k] = features.get(k).value(o, r, pos, maskedInBlock, knob);
            }
        }
        return new PolicyInputs(feats, elig, rows, w, o.blockStart().clone());
    }

    private static PolicyInputs ofBuffer(List<PolicyFeatures> features, StepObservation o, float knob) {
        int rows = o.rows(), w = o.genLength(), f = features.size();
        float[] feats = new float[rows * w * f], elig = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            int start = o.blockStart()[r], maskedInBlock = 0;
            for (int j = start; j < start + o.blockLength(); j++) if (o.eligible()[r][j]) maskedInBlock++;
            for (int j = 0; j < w; j++) {
                if (o.eligible()[r][j]) elig[r * w + j] = 1f;
                for (int k = 0; k < f; k++) {
                    PolicyFeatures feature = features.get(k);
                    if (feature.isDllmStatistic() && !o.masked()[r][j]) continue;
                    feats[(r * w + j) * f + k] = feature.value(o, r, j, maskedInBlock, knob);
                }
            }
        }
        return new PolicyInputs(feats, elig, rows, w, new int[rows]);
    }

    public boolean eligible(int row, int j) {
        return eligible[row * width + j] != 0f;
    }
}
