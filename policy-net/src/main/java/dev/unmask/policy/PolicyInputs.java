package dev.unmask.policy;

import dev.unmask.env.mdp.StepObservation;

import java.util.List;

/**
 * The policy's inputs for one step, laid out per window without ND4J: the one place that decides
 * them, for the networks ({@link PolicyWindow#of}) and the exported model
 * ({@code OnnxPolicy}) alike.
 * <ul>
 *   <li>A block-window policy reads the active block (width B, index = position inside the block);
 *   features only where eligible, zeros elsewhere.</li>
 *   <li>A whole-buffer policy ({@link PolicyConfig#seesWholeBuffer()}) reads every position of the
 *   buffer (width L, index = buffer position, blockStart 0); the dLLM's statistics are 0 where a
 *   token is written, the other features are given everywhere.</li>
 * </ul>
 *
 * @param features [rows * width * F] row-major
 * @param eligible [rows * width]: 1 where the position is masked and in the active block, else 0
 */
public record PolicyInputs(float[] features, float[] eligible, int rows, int width, int[] blockStart) {

    /** A block-window policy that reads no knob. */
    public static PolicyInputs of(List<PolicyFeatures> features, StepObservation o) {
        return of(features, o, null, false);
    }

    /**
     * @param knobByRow   each row's {@link PolicyFeatures#KNOB} value, or null for a policy that reads none
     * @param wholeBuffer lay out the whole buffer rather than the active block
     */
    public static PolicyInputs of(List<PolicyFeatures> features, StepObservation o, float[] knobByRow, boolean wholeBuffer) {
        int rows = o.rows(), w = wholeBuffer ? o.genLength() : o.blockLength(), f = features.size();
        float[] feats = new float[rows * w * f], elig = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            int start = o.blockStart()[r], maskedInBlock = 0, offset = wholeBuffer ? 0 : start;
            float knob = knobByRow == null ? Float.NaN : knobByRow[r];
            for (int j = start; j < start + o.blockLength(); j++) if (o.eligible()[r][j]) maskedInBlock++;
            for (int j = 0; j < w; j++) {
                int pos = offset + j;
                boolean eligible = o.eligible()[r][pos];
                if (eligible) elig[r * w + j] = 1f;
                if (!eligible && !wholeBuffer) continue;
                for (int k = 0; k < f; k++) {
                    PolicyFeatures feature = features.get(k);
                    if (feature.isDllmStatistic() && !o.masked()[r][pos]) continue;
                    feats[(r * w + j) * f + k] = feature.value(o, r, pos, maskedInBlock, knob);
                }
            }
        }
        return new PolicyInputs(feats, elig, rows, w, wholeBuffer ? new int[rows] : o.blockStart().clone());
    }

    public boolean eligible(int row, int j) {
        return eligible[row * width + j] != 0f;
    }
}
