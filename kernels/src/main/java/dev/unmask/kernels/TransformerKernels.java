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
     * {@link #layerNormRowSequential} on rows [from, to) of x (rows of d), 1 / std into rstd[row]:
     * bit for bit the same, four rows at a time so that their sums, each still in index order, run
     * side by side instead of waiting on one another (a float sum's additions are a chain of
     * dependent adds; four independent chains keep the adder busy).
     */
    public static void layerNormRowsSequential(float[] x, float[] xhat, float[] out, float[] rstd, int from, int to,
                                               float[] gain, float[] bias, int d) {
        int i = from;
        for (; i + 4 <= to; i += 4) {
            int o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float m0 = 0, m1 = 0, m2 = 0, m3 = 0;
            for (int j = 0; j < d; j++) {
                m0 += x[o0 + j];
                m1 += x[o1 + j];
                m2 += x[o2 + j];
                m3 += x[o3 + j];
            }
            m0 /= d;
            m1 /= d;
            m2 /= d;
            m3 /= d;
            float v0 = 0, v1 = 0, v2 = 0, v3 = 0;
            for (int j = 0; j < d; j++) {
                float c0 = x[o0 + j] - m0, c1 = x[o1 + j] - m1, c2 = x[o2 + j] - m2, c3 = x[o3 + j] - m3;
                xhat[o0 + j] = c0;
                xhat[o1 + j] = c1;
                xhat[o2 + j] = c2;
                xhat[o3 + j] = c3;
                v0 += c0 * c0;
                v1 += c1 * c1;
                v2 += c2 * c2;
                v3 += c3 * c3;
            }
            rstd[i] = scaleRow(xhat, out, o0, (float) (1.0 / Math.sqrt(v0 / d + EPS)), gain, bias, d);
            rstd[i + 1] = scaleRow(xhat, out, o1, (float) (1.0 / Math.sqrt(v1 / d + EPS)), gain, bias, d);
            rstd[i + 2] = scaleRow(xhat, out, o2, (float) (1.0 / Math.sqrt(v2 / d + EPS)), gain, bias, d);
            rstd[i + 3] = scaleRow(xhat, out, o3, (float) (1.0 / Math.sqrt(v3 / d + EPS)), gain, bias, d);
        }
        for (; i < to; i++) rstd[i] = layerNormRowSequential(x, xhat, out, i * d, gain, bias, d);
    }

    private static float scaleRow(float[] xhat, float[] out, int o, float rs, float[] gain, float[] bias, int d) {
        for (int j = 0; j < d; j++) {
            xhat[o + j] *= rs;
            out[o + j] = xhat[o + j] * gain[j] + bias[j];
        }
        return rs;
    }

    /**
     * LayerNorm's input gradient (as {@link #layerNormBackwardRow}) on rows [from, to) (rows of d,
     * 1 / std in rstd[row]) with the two means in one running sum each, in index order (the
     * default {@code fast} policy update's form, pinned by its committed trainings), four rows side
     * by side as in {@link #layerNormRowsSequential}; the gain's and bias's gradients are
     * {@link #layerNormParameterGradients}'.
     */
    public static void layerNormBackwardRowsSequential(float[] dy, float[] xhat, float[] rstd, float[] dx, int from, int to,
                                                       float[] gain, int d) {
        int i = from;
        for (; i + 4 <= to; i += 4) {
            int o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            for (int j = 0; j < d; j++) {
                float g = gain[j];
                float h0 = dy[o0 + j] * g, h1 = dy[o1 + j] * g, h2 = dy[o2 + j] * g, h3 = dy[o3 + j] * g;
                a0 += h0;
                a1 += h1;
                a2 += h2;
                a3 += h3;
                b0 += h0 * xhat[o0 + j];
                b1 += h1 * xhat[o1 + j];
                b2 += h2 * xhat[o2 + j];
                b3 += h3 * xhat[o3 + j];
            }
            inputGradientRow(dy, xhat, rstd[i], dx, o0, gain, a0 / d, b0 / d, d);
            inputGradientRow(dy, xhat, rstd[i + 1], dx, o1, gain, a1 / d, b1 / d, d);
            inputGradientRow(dy, xhat, rstd[i + 2], dx, o2, gain, a2 / d, b2 / d, d);
            inputGradientRow(dy, xhat, rstd[i + 3], dx, o3, gain, a3 / d, b3 / d, d);
        }
        for (; i < to; i++) {
            int o = i * d;
            float a = 0, b = 0;
            for (int j = 0; j < d; j++) {
                float h = dy[o + j] * gain[j];
                a += h;
                b += h * xhat[o + j];
            }
            inputGradientRow(dy, xhat, rstd[i], dx, o, gain, a / d, b / d, d);
        }
    }

    private static void inputGradientRow(float[] dy, float[] xhat, float rstd, float[] dx, int o, float[] gain, float m1, float m2, int d) {
        for (int j = 0; j < d; j++) dx[o + j] = rstd * (dy[o + j] * gain[j] - m1 - xhat[o + j] * m2);
    }

    /**
     * LayerNorm's parameter gradients over rows [from, to): gainGrad[j] += dy xhat and
     * biasGrad[j] += dy, row after row (four rows per pass, added one after the other).
     */
    public static void layerNormParameterGradients(float[] dy, float[] xhat, float[] gainGrad, float[] biasGrad, int from, int to, int d) {
        int i = from;
        for (; i + 4 <= to; i += 4) { // four rows per pass over the sums, added one after the other
            int o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            for (int j = 0; j < d; j++) {
                gainGrad[j] = gainGrad[j] + dy[o0 + j] * xhat[o0 + j] + dy[o1 + j] * xhat[o1 + j] + dy[o2 + j] * xhat[o2 + j] + dy[o3 + j] * xhat[o3 + j];
                biasGrad[j] = biasGrad[j] + dy[o0 + j] + dy[o1 + j] + dy[o2 + j] + dy[o3 + j];
            }
        }
        for (; i < to; i++) {
            int o = i * d;
            for (int j = 0; j < d; j++) {
                gainGrad[j] += dy[o + j] * xhat[o + j];
                biasGrad[j] += dy[o + j];
            }
        }
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
        }
        layerNormBackwardRowInput(dy, xhat, rstd, dx, o, gain, dxhat, d, accumulate);
    }

    /** The input gradient of {@link #layerNormBackwardRow} alone, the parameters' sums left to the caller ({@link #layerNormParameterGradients}). */
    public static void layerNormBackwardRowInput(float[] dy, float[] xhat, float rstd, float[] dx, int o, float[] gain, float[] dxhat, int d,
                                                 boolean accumulate) {
        for (int j = 0; j < d; j++) dxhat[j] = dy[o + j] * gain[j];
        float meanG = FloatKernels.sum(dxhat, 0, d) / d;
        float meanGx = dotShifted(dxhat, xhat, o, d) / d;
        if (accumulate) {
            for (int j = 0; j < d; j++) dx[o + j] += rstd * (dxhat[j] - meanG - xhat[o + j] * meanGx);
        } else {
            for (int j = 0; j < d; j++) dx[o + j] = rstd * (dxhat[j] - meanG - xhat[o + j] * meanGx);
        }
    }

    /**
     * GELU of u[0..n) (bias already added): sig = sigmoid(1.702 u), out = u * sig ({@code out}
     * may be {@code u}). {@code scratch} holds n floats and is none of the others.
     */
    public static void gelu(float[] u, float[] sig, float[] out, int n, float[] scratch) {
        gelu(u, sig, out, 0, n, scratch);
    }

    /** {@link #gelu} on [from, to); {@code scratch} is used at the same places. */
    public static void gelu(float[] u, float[] sig, float[] out, int from, int to, float[] scratch) {
        for (int i = from; i < to; i++) sig[i] = -(u[i] * GELU_SCALE);
        FloatKernels.exp(sig, sig, from, to, scratch);
        for (int i = from; i < to; i++) {
            sig[i] = 1f / (1f + sig[i]);
            out[i] = u[i] * sig[i];
        }
    }

    /** du (d loss / d gelu output) becomes d loss / d u, with gelu'(u) = sig + 1.702 gelu(u) (1 - sig). */
    public static void geluBackward(float[] du, float[] sig, float[] gel, int n) {
        geluBackward(du, sig, gel, 0, n);
    }

    /** {@link #geluBackward} on [from, to). */
    public static void geluBackward(float[] du, float[] sig, float[] gel, int from, int to) {
        for (int i = from; i < to; i++) du[i] *= sig[i] + GELU_SCALE * gel[i] * (1f - sig[i]);
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

    /**
     * {@link #softmaxBackwardRowSequential} on the rows idx[0..count) of p and dp (rows of n floats,
     * from offset 0), bit for bit, four rows side by side so that their sums' dependent additions
     * overlap.
     */
    public static void softmaxBackwardRowsSequential(float[] p, float[] dp, int[] idx, int count, int n) {
        int c = 0;
        for (; c + 4 <= count; c += 4) {
            int o0 = idx[c] * n, o1 = idx[c + 1] * n, o2 = idx[c + 2] * n, o3 = idx[c + 3] * n;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int j = 0; j < n; j++) {
                s0 += dp[o0 + j] * p[o0 + j];
                s1 += dp[o1 + j] * p[o1 + j];
                s2 += dp[o2 + j] * p[o2 + j];
                s3 += dp[o3 + j] * p[o3 + j];
            }
            softmaxBackwardScale(p, dp, o0, s0, n);
            softmaxBackwardScale(p, dp, o1, s1, n);
            softmaxBackwardScale(p, dp, o2, s2, n);
            softmaxBackwardScale(p, dp, o3, s3, n);
        }
        for (; c < count; c++) softmaxBackwardRowSequential(p, dp, idx[c] * n, n);
    }

    private static void softmaxBackwardScale(float[] p, float[] dp, int o, float s, int n) {
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
