package dev.unmask.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TransformerKernelsTest {
    private static final int D = 13; // not a multiple of 4: the running sums' tails run too

    interface LayerNorm {
        float apply(float[] x, float[] xhat, float[] out, int o, float[] gain, float[] bias, int d);
    }

    private static float[] gaussian(Random rng, int n, double scale, double shift) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * scale + shift);
        return x;
    }

    /** LayerNorm in double: (x - mean) / sqrt(var + eps) * gain + bias. */
    private static double[] reference(float[] x, int o, float[] gain, float[] bias, int d) {
        double mean = 0, var = 0;
        for (int j = 0; j < d; j++) mean += x[o + j];
        mean /= d;
        for (int j = 0; j < d; j++) var += (x[o + j] - mean) * (x[o + j] - mean);
        var /= d;
        double[] y = new double[d];
        for (int j = 0; j < d; j++) y[j] = (x[o + j] - mean) / Math.sqrt(var + TransformerKernels.LN_EPS) * gain[j] + bias[j];
        return y;
    }

    @Test
    void everyLayerNormVariantIsLayerNormToFloatRoundingAtAnyRowOffset() {
        Random rng = new Random(3);
        LayerNorm[] variants = {TransformerKernels::layerNormRow, TransformerKernels::layerNormRowScaled, TransformerKernels::layerNormRowSequential};
        float[] gain = gaussian(rng, D, 0.5, 1), bias = gaussian(rng, D, 0.5, 0);
        int o = 2 * D;
        float[] x = gaussian(rng, 3 * D, 3, 1.5);
        double[] want = reference(x, o, gain, bias, D);
        for (LayerNorm ln : variants) {
            float[] xhat = new float[3 * D], out = new float[3 * D];
            float rstd = ln.apply(x, xhat, out, o, gain, bias, D);
            for (int j = 0; j < D; j++) {
                assertEquals(want[j], out[o + j], 2e-5 * (1 + Math.abs(want[j])));
                assertEquals(out[o + j], xhat[o + j] * gain[j] + bias[j], 0f); // out is built from the x-hat it keeps
            }
            for (int j = 0; j < o; j++) assertEquals(0f, out[j], 0f); // other rows untouched
            double mean = 0, var = 0;
            for (int j = 0; j < D; j++) mean += x[o + j];
            mean /= D;
            for (int j = 0; j < D; j++) var += (x[o + j] - mean) * (x[o + j] - mean);
            assertEquals(1 / Math.sqrt(var / D + TransformerKernels.LN_EPS), rstd, 1e-5 * rstd);
        }
        // in place, as the dLLM calls it: x-hat over x
        float[] y = x.clone(), out = new float[3 * D], apart = new float[3 * D], out2 = new float[3 * D];
        TransformerKernels.layerNormRow(y, y, out, o, gain, bias, D);
        TransformerKernels.layerNormRow(x, apart, out2, o, gain, bias, D);
        assertArrayEquals(out2, out, 0f);
    }

    /** The loss sum_j c_j y_j of LayerNorm's output y, in double, for central differences. */
    private static double loss(float[] x, int o, float[] gain, float[] bias, float[] c) {
        double[] y = reference(x, o, gain, bias, D);
        double l = 0;
        for (int j = 0; j < D; j++) l += c[j] * y[j];
        return l;
    }

    @Test
    void layerNormBackwardVariantsGiveTheGradientsOfTheForward() {
        Random rng = new Random(5);
        float[] gain = gaussian(rng, D, 0.5, 1), bias = gaussian(rng, D, 0.5, 0), c = gaussian(rng, D, 1, 0);
        int o = D;
        float[] x = gaussian(rng, 2 * D, 2, 0.5), xhat = new float[2 * D], out = new float[2 * D], dy = new float[2 * D];
        float rstd = TransformerKernels.layerNormRow(x, xhat, out, o, gain, bias, D);
        System.arraycopy(c, 0, dy, o, D); // d loss / d y = c
        float[][] dx = new float[2][2 * D], gainGrad = new float[2][D], biasGrad = new float[2][D];
        TransformerKernels.layerNormBackwardRow(dy, xhat, rstd, dx[0], o, gain, gainGrad[0], biasGrad[0], new float[D], D, false);
        TransformerKernels.layerNormBackwardRowsSequential(dy, xhat, new float[]{0f, rstd}, dx[1], 1, 2, gain, D); // row 1 = offset o
        TransformerKernels.layerNormParameterGradients(dy, xhat, gainGrad[1], biasGrad[1], 1, 2, D);
        double h = 1e-3;
        for (int j = 0; j < D; j++) {
            float[] up = x.clone(), down = x.clone();
            up[o + j] += (float) h;
            down[o + j] -= (float) h;
            double numeric = (loss(up, o, gain, bias, c) - loss(down, o, gain, bias, c)) / ((up[o + j] - x[o + j]) + (x[o + j] - down[o + j]));
            for (int v = 0; v < 2; v++) {
                assertEquals(numeric, dx[v][o + j], 2e-3 * (1 + Math.abs(numeric)), "dx " + j);
                assertEquals(c[j] * xhat[o + j], gainGrad[v][j], 1e-6);
                assertEquals(c[j], biasGrad[v][j], 0f);
            }
        }
        // accumulate adds the same gradient to what dx held
        float[] acc = new float[2 * D];
        Arrays.fill(acc, 1f);
        TransformerKernels.layerNormBackwardRow(dy, xhat, rstd, acc, o, gain, new float[D], new float[D], new float[D], D, true);
        for (int j = 0; j < D; j++) assertEquals(1f + dx[0][o + j], acc[o + j], 1e-6f);
    }

    @Test
    void theFourRowsAtATimeKernelsEqualRowAfterRowBitForBit() {
        Random rng = new Random(9);
        int rows = 7; // one group of four and a tail of three
        float[] gain = gaussian(rng, D, 0.5, 1), bias = gaussian(rng, D, 0.5, 0);
        float[] x = gaussian(rng, rows * D, 2, 0.5), dy = gaussian(rng, rows * D, 1, 0);
        float[] xhat = new float[rows * D], out = new float[rows * D], rstd = new float[rows];
        TransformerKernels.layerNormRowsSequential(x, xhat, out, rstd, 0, rows, gain, bias, D);
        float[] xhat1 = new float[rows * D], out1 = new float[rows * D];
        for (int r = 0; r < rows; r++) {
            float rs = TransformerKernels.layerNormRowSequential(x, xhat1, out1, r * D, gain, bias, D);
            assertEquals(Float.floatToRawIntBits(rs), Float.floatToRawIntBits(rstd[r]), "rstd " + r);
        }
        assertArrayEquals(out1, out, 0f);
        assertArrayEquals(xhat1, xhat, 0f);

        float[] dx = new float[rows * D], dx1 = new float[rows * D], g4 = new float[D], b4 = new float[D], g1 = new float[D], b1 = new float[D];
        TransformerKernels.layerNormBackwardRowsSequential(dy, xhat, rstd, dx, 0, rows, gain, D);
        TransformerKernels.layerNormParameterGradients(dy, xhat, g4, b4, 0, rows, D);
        for (int r = 0; r < rows; r++) {
            TransformerKernels.layerNormBackwardRowsSequential(dy, xhat, rstd, dx1, r, r + 1, gain, D);
            TransformerKernels.layerNormParameterGradients(dy, xhat, g1, b1, r, r + 1, D);
        }
        assertArrayEquals(dx1, dx, 0f);
        assertArrayEquals(g1, g4, 0f);
        assertArrayEquals(b1, b4, 0f);

        int n = 11; // a softmax row's length
        float[] p = gaussian(rng, rows * n, 0.2, 0.3), dp = gaussian(rng, rows * n, 1, 0), dp1 = dp.clone();
        int[] idx = {0, 2, 3, 4, 5, 6}; // rows with a gap, four side by side and a tail
        TransformerKernels.softmaxBackwardRowsSequential(p, dp, idx, idx.length, n);
        for (int r : idx) TransformerKernels.softmaxBackwardRowSequential(p, dp1, r * n, n);
        assertArrayEquals(dp1, dp, 0f);
    }

    @Test
    void geluIsUTimesSigmoidAndItsBackwardIsTheDerivative() {
        Random rng = new Random(7);
        int n = 37;
        float[] u = gaussian(rng, n, 3, 0), sig = new float[n], out = new float[n], scratch = new float[n];
        TransformerKernels.gelu(u, sig, out, n, scratch);
        float[] du = new float[n];
        Arrays.fill(du, 1f);
        TransformerKernels.geluBackward(du, sig, out, n);
        for (int i = 0; i < n; i++) {
            double s = 1 / (1 + Math.exp(-TransformerKernels.GELU_SIGMOID_SCALE * u[i]));
            assertEquals(u[i] * s, out[i], 1e-6 * (1 + Math.abs(u[i])));
            double h = 1e-4, g = (gelu(u[i] + h) - gelu(u[i] - h)) / (2 * h);
            assertEquals(g, du[i], 1e-4);
        }
    }

    private static double gelu(double u) {
        return u / (1 + Math.exp(-TransformerKernels.GELU_SIGMOID_SCALE * u));
    }

    @Test
    void softmaxBackwardVariantsGiveTheJacobianProductOnTheirColumnsOnly() {
        Random rng = new Random(9);
        int rows = 3, stride = 11, n = 9;
        float[] p = new float[rows * stride], dp = gaussian(rng, rows * stride, 1, 0);
        for (int r = 0; r < rows; r++) {
            float[] z = gaussian(rng, n, 2, 0);
            FloatKernels.softmax(z, n, new float[n]);
            System.arraycopy(z, 0, p, r * stride, n);
        }
        float[] four = dp.clone(), sequential = dp.clone();
        TransformerKernels.softmaxBackwardRows(p, four, rows, stride, n);
        for (int r = 0; r < rows; r++) TransformerKernels.softmaxBackwardRowSequential(p, sequential, r * stride, n);
        for (int r = 0; r < rows; r++) {
            int o = r * stride;
            double s = 0;
            for (int j = 0; j < n; j++) s += (double) p[o + j] * dp[o + j];
            for (int j = 0; j < n; j++) {
                double want = p[o + j] * (dp[o + j] - s);
                assertEquals(want, four[o + j], 1e-6);
                assertEquals(want, sequential[o + j], 1e-6);
            }
            for (int j = n; j < stride; j++) assertEquals(dp[o + j], four[o + j], 0f); // columns past n untouched
        }
    }
}
