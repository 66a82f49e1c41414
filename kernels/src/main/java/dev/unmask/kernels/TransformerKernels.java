package dev.unmask.kernels;

/**
 * The row kernels of the project's transformers (the built-in dLLM's {@code FastDllm} and the
 * policy's {@code FastPolicyGradients}), written once: LayerNorm forward and backward, GELU in its
 * sigmoid form forward and backward, and the softmax's backward. Matrix products stay with the
 * callers (OpenBLAS through ND4J); everything here is plain Java on heap arrays.
 *
 * <p><b>Why some kernels come in two or three summation orders.</b> Committed runs are replayed bit
 * for bit: the shipped dLLMs' trainings and the fast engine's evaluations ran on the four-running-sum
 * LayerNorm that divides by the standard deviation; the policy trainings with {@code policyUpdate:
 * fast} ran on sequential sums multiplied by 1/std. The variants agree to float rounding, not to the
 * bit, so each keeps its name here and every caller says which one it runs; a new caller takes the
 * first (four running sums: shorter dependency chains, faster).
 *
 * <p>In every row kernel the row's arrays share one offset {@code o}; gains, biases and per-column
 * accumulators start at 0.
 */
public final class TransformerKernels {
    /** LayerNorm's epsilon, as in the SameDiff graphs and the ONNX exports. */
    public static final double LN_EPS = 1e-5;
    /** GELU in its sigmoid form: gelu(u) = u * sigmoid(1.702 u). */
    public static final double GELU_SIGMOID_SCALE = 1.702;

    private static final float EPS = (float) LN_EPS;
    private static final float GELU_SCALE = (float) GELU_SIGMOID_SCALE;

    private TransformerKernels() {
    }

    /**
     * LayerNorm of x[o..o+d) into out: x-hat (written to {@code xhat}, which may be {@code x}) =
     * (x - mean) / std with std = sqrt(var + eps) in float, both sums in four running sums; out =
     * x-hat * gain + bias. Returns 1 / std.
     */
    public static float layerNormRow(float[] x, float[] xhat, float[] out, int o, float[] gain, float[] bias, int d) {
        float mean = FloatKernels.sum(x, o, d) / d;
        for (int j = 0; j < d; j++) xhat[o + j] = x[o + j] - mean;
        float var = FloatKernels.dot(xhat, xhat, o, d) / d;
        float std = (float) Math.sqrt(var + EPS);
        for (int j = 0; j < d; j++) {
            xhat[o + j] = xhat[o + j] / std;
            out[o + j] = xhat[o + j] * gain[j] + bias[j];
        }
        return 1f / std;
    }

    /**
     * {@link #layerNormRow} with 1/std computed in double and multiplied in (the {@code
     * fast-eligible} policy update's form). Returns 1 / std.
     */
    public static float layerNormRowScaled(float[] x, float[] xhat, float[] out, int o, float[] gain, float[] bias, int d) {
        float mean = FloatKernels.sum(x, o, d) / d;
        for (int j = 0; j < d; j++) xhat[o + j] = x[o + j] - mean;
        float var = FloatKernels.dot(xhat, xhat, o, d);
        float rs = (float) (1.0 / Math.sqrt(var / d + EPS));
        for (int j = 0; j < d; j++) {
            xhat[o + j] *= rs;
            out[o + j] = xhat[o + j] * gain[j] + bias[j];
        }
        return rs;
    }

    /**
     * {@link #layerNormRowScaled} with both sums in one running sum each, in index order (the
     * default {@code fast} policy update's form, pinned by its committed trainings). Returns 1 / std.
     */
    public static float layerNormRowSequential(float[] x, float[] xhat, float[] out, int o, float[] gain, float[] bias, int d) {
        float mean = 0;
        for (int j = 0; j < d; j++) mean += x[o + j];
        mean /= d;
        float var = 0;
        for (int j = 0; j < d; j++) {
            float c = x[o + j] - mean;
            xhat[o + j] = c;
            var += c * c;
        }
        float rs = (float) (1.0 / Math.sqrt(var / d + EPS));
        for (int j = 0; j < d; j++) {
            xhat[o + j] *= rs;
            out[o + j] = xhat[o + j] * gain[j] + bias[j];
        }
        return rs;
    }

    /**
     * LayerNorm's backward for one row, given dy = d loss / d output at [o, o+d): adds the row's
     * terms to the gain's and the bias's gradients and writes (or, with {@code accumulate}, adds) the
     * input's gradient dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = dy gain,
     * the two means in four running sums. {@code dxhat} is a scratch row of d floats.
     */
    public static void layerNormBackwardRow(float[] dy, float[] xhat, float rstd, float[] dx, int o, float[] gain,
                                            float[] gainGrad, float[] biasGrad, float[] dxhat, int d, boolean accumulate) {
        for (int j = 0; j < d; j++) {
            gainGrad[j] += dy[o + j] * xhat[o + j];
            biasGrad[j] += dy[o + j];
            dxhat[j] = dy[o + j] * gain[j];
        }
        float meanG = FloatKernels.sum(dxhat, 0, d) / d;
        float meanGx = dotShifted(dxhat, xhat, o, d) / d;
        if (accumulate) {
            for (int j = 0; j < d; j++) dx[o + j] += rstd * (dxhat[j] - meanG - xhat[o + j] * meanGx);
        } else {
            for (int j = 0; j < d; j++) dx[o + j] = rstd * (dxhat[j] - meanG - xhat[o + j] * meanGx);
        }
    }

    /** {@link #layerNormBackwardRow} (writing dx) with the two means in one running sum each, in index order. */
    public static void layerNormBackwardRowSequential(float[] dy, float[] xhat, float rstd, float[] dx, int o, float[] gain,
                                                      float[] gainGrad, float[] biasGrad, int d) {
        float m1 = 0, m2 = 0;
        for (int j = 0; j < d; j++) {
            float dxh = dy[o + j] * gain[j];
            gainGrad[j] += dy[o + j] * xhat[o + j];
            biasGrad[j] += dy[o + j];
            m1 += dxh;
            m2 += dxh * xhat[o + j];
        }
        m1 /= d;
        m2 /= d;
        for (int j = 0; j < d; j++) dx[o + j] = rstd * (dy[o + j] * gain[j] - m1 - xhat[o + j] * m2);
    }

    /**
     * GELU of u[0..n) (bias already added): sig = sigmoid(1.702 u), out = u * sig ({@code out}
     * may be {@code u}). {@code scratch} holds n floats and is none of the others.
     */
    public static void gelu(float[] u, float[] sig, float[] out, int n, float[] scratch) {
        for (int i = 0; i < n; i++) sig[i] = -(u[i] * GELU_SCALE);
        FloatKernels.exp(sig, sig, n, scratch);
        for (int i = 0; i < n; i++) {
            sig[i] = 1f / (1f + sig[i]);
            out[i] = u[i] * sig[i];
        }
    }

    /** du (d loss / d gelu output) becomes d loss / d u, with gelu'(u) = sig + 1.702 gelu(u) (1 - sig). */
    public static void geluBackward(float[] du, float[] sig, float[] gel, int n) {
        for (int i = 0; i < n; i++) du[i] *= sig[i] + GELU_SCALE * gel[i] * (1f - sig[i]);
    }

    /**
     * The softmax's backward over the first n entries of {@code rows} rows of {@code stride} floats:
     * dp (d loss / d probabilities) becomes d loss / d scores, p (dp - sum_j p dp), the sum in four
     * running sums.
     */
    public static void softmaxBackwardRows(float[] p, float[] dp, int rows, int stride, int n) {
        for (int i = 0; i < rows; i++) {
            int o = i * stride;
            float s = FloatKernels.dot(p, dp, o, n);
            for (int j = 0; j < n; j++) dp[o + j] = p[o + j] * (dp[o + j] - s);
        }
    }

    /** The softmax's backward of the row at [o, o+n), the sum in one running sum, in index order. */
    public static void softmaxBackwardRowSequential(float[] p, float[] dp, int o, int n) {
        float s = 0;
        for (int j = 0; j < n; j++) s += dp[o + j] * p[o + j];
        for (int j = 0; j < n; j++) dp[o + j] = p[o + j] * (dp[o + j] - s);
    }

    /** Sum of a[j] * b[o + j] over j < n, in four running sums. */
    private static float dotShifted(float[] a, float[] b, int o, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            s0 += a[j] * b[o + j];
            s1 += a[j + 1] * b[o + j + 1];
            s2 += a[j + 2] * b[o + j + 2];
            s3 += a[j + 3] * b[o + j + 3];
        }
        for (; j < n; j++) s0 += a[j] * b[o + j];
        return (s0 + s1) + (s2 + s3);
    }
}
