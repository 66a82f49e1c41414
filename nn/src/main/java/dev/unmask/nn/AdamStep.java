package dev.unmask.nn;

/**
 * Adam's per-element step, shared by {@link Adam} and {@link FlatAdam}: the float operations of the
 * ND4J calls it replaced, one rounding each, in their order, every scalar rounded to float as an
 * ND4J scalar operation on a float array rounds it, no fused multiply-add. Changing any of that
 * changes trained weights ({@code AdamBitIdentityTest}).
 */
record AdamStep(boolean clip, float scale, float b1, float b1c, float b2, float b2c, float eps, float stepSize,
                boolean decay, float decayFactor) {

    /** The step's scalars for update number {@code step} (from 1), clip scale {@code scale} (1: none), AdamW decay (0: none). */
    static AdamStep of(double beta1, double beta2, double eps, double lr, long step, double scale, double weightDecay) {
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        return new AdamStep(scale != 1.0, (float) scale, (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                (float) eps, (float) (lr * Math.sqrt(c2) / c1), weightDecay > 0, (float) (1 - lr * weightDecay));
    }

    /** Moves p[pFrom..+len) and the moments m, v [mFrom..+len) by the gradient g[gFrom..+len). */
    void apply(float[] g, int gFrom, float[] p, int pFrom, float[] m, float[] v, int mFrom, int len) {
        for (int i = 0; i < len; i++) {
            float gi = clip ? g[gFrom + i] * scale : g[gFrom + i];
            float mi = m[mFrom + i] * b1 + gi * b1c;
            float vi = v[mFrom + i] * b2 + gi * gi * b2c;
            m[mFrom + i] = mi;
            v[mFrom + i] = vi;
            float update = mi / ((float) Math.sqrt(vi) + eps) * stepSize;
            if (decay) p[pFrom + i] *= decayFactor;
            p[pFrom + i] -= update;
        }
    }
}
