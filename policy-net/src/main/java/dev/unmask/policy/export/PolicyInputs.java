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

    public boolean eligible(int row, int j) {
        return eligible[row * width + j] != 0f;
    }
}
