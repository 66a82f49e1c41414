package dev.unmask.heuristics;

import dev.unmask.env.mdp.StepObservation;

import java.util.SplittableRandom;

/** Hand-made one-row observations for pinning each rule's selection. */
final class Obs {
    private Obs() {
    }

    /**
     * @param conf confidences over the buffer; NaN marks an already unmasked position
     * @param blockLength block length B (the active block is block {@code block})
     */
    static StepObservation of(float[] conf, int blockLength, int block, int stepInBlock, int maskedAtBlockStart) {
        int len = conf.length;
        float[] margin = new float[len], entropy = new float[len];
        boolean[] masked = new boolean[len], eligible = new boolean[len];
        for (int i = 0; i < len; i++) {
            masked[i] = !Float.isNaN(conf[i]);
            eligible[i] = masked[i] && i >= block * blockLength && i < (block + 1) * blockLength;
            margin[i] = masked[i] ? conf[i] / 2 : Float.NaN;
            entropy[i] = masked[i] ? 1 - conf[i] : Float.NaN;
        }
        return StepObservation.builder(len, blockLength).statistics(new float[][]{conf}, new float[][]{margin}, new float[][]{entropy})
                .masks(new boolean[][]{masked}, new boolean[][]{eligible}).blocks(new int[]{block * blockLength}, new int[]{block}, new int[]{stepInBlock}, new int[]{maskedAtBlockStart})
                .episodes(new int[]{0}, new SplittableRandom[]{new SplittableRandom(1)}, new int[]{0}).build();
    }

    static StepObservation full(float... conf) {
        int masked = 0;
        for (float c : conf) if (!Float.isNaN(c)) masked++;
        return of(conf, conf.length, 0, 0, masked);
    }

    static StepObservation withEntropy(float[] conf, float[] entropy) {
        StepObservation o = full(conf);
        System.arraycopy(entropy, 0, o.entropy()[0], 0, entropy.length);
        return o;
    }

    static String picked(boolean[][] a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a[0].length; i++) if (a[0][i]) sb.append(sb.length() == 0 ? "" : ",").append(i);
        return sb.toString();
    }
}
