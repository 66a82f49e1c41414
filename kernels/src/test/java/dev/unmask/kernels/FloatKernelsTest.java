package dev.unmask.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class FloatKernelsTest {
    @Test
    void expIsWithinAFewUlpsOfMathExpOverItsRangeAndClampsOutsideIt() {
        Random rng = new Random(1);
        int n = 1000;
        float[] x = new float[n], y = new float[n], scratch = new float[n];
        double worst = 0;
        for (int rep = 0; rep < 200; rep++) {
            for (int i = 0; i < n; i++) x[i] = (float) (rep % 2 == 0 ? rng.nextDouble() * 175 - 87 : rng.nextGaussian() * 3);
            FloatKernels.exp(x, y, n, scratch);
            for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - Math.exp(x[i])) / Math.exp(x[i]));
        }
        assertTrue(worst < 2e-7, "relative error " + worst);
        float[] edge = {0f, -0f, -87f, 88f, -1000f, 1000f, -1e-30f, Float.NEGATIVE_INFINITY};
        float[] out = new float[edge.length];
        FloatKernels.exp(edge, out, edge.length, new float[edge.length]);
        assertEquals(1f, out[0]);
        assertEquals(1f, out[1]);
        assertEquals(Math.exp(-87), out[2], 1e-7 * Math.exp(-87));
        assertEquals(Math.exp(88), out[3], 1e-7 * Math.exp(88));
        assertEquals(out[2], out[4], "clamped below");
        assertEquals(out[3], out[5], "clamped above");
        assertEquals(1f, out[6]);
        assertEquals(out[2], out[7]);
        // in place
        float[] inPlace = x.clone();
        FloatKernels.exp(inPlace, inPlace, n, scratch);
        FloatKernels.exp(x, y, n, scratch);
        assertArrayEquals(y, inPlace);
    }

    @Test
    void sigmoidMatchesItsDefinitionAndSaturates() {
        float[] z = {0f, 1f, -1f, 5f, -5f, 30f, -30f, 200f, -200f};
        float[] s = new float[z.length];
        FloatKernels.sigmoid(z, s, z.length, new float[z.length]);
        for (int i = 0; i < 7; i++) {
            double expected = 1 / (1 + Math.exp(-z[i]));
            assertEquals(expected, s[i], 2e-7 * expected, "sigmoid(" + z[i] + ")");
        }
        assertEquals(1f, s[7]);
        assertTrue(s[8] >= 0 && s[8] < 1e-37, "sigmoid(-200) = " + s[8]);
    }

    @Test
    void softmaxSumsToOneAndMatchesTheDoubleFormula() {
        float[] x = {3f, -1f, 0.5f, 80f, -200f, 79f, 2f};
        double max = 80, sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        float[] p = x.clone();
        FloatKernels.softmax(p, p.length, new float[p.length]);
        double total = 0;
        for (int i = 0; i < x.length; i++) {
            double expected = Math.exp(x[i] - max) / sum;
            assertEquals(expected, p[i], 3e-7 * expected + 2e-38, "p[" + i + "] (below exp(-87) only the order of magnitude)");
            total += p[i];
        }
        assertEquals(1, total, 1e-6);
    }

    @Test
    void reductionsCoverEveryElementWhateverTheLength() {
        for (int n = 0; n < 11; n++) {
            float[] x = new float[n], y = new float[n];
            double sum = 0, dot = 0;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                x[i] = i * 0.5f - 2;
                y[i] = 3 - i;
                sum += x[i];
                dot += x[i] * y[i];
                max = Math.max(max, x[i]);
            }
            assertEquals(sum, FloatKernels.sum(x, n), 1e-6);
            assertEquals(dot, FloatKernels.dot(x, y, n), 1e-5);
            assertEquals(max, FloatKernels.max(x, n));
            if (n > 2) {
                x[1] = 100;
                assertEquals(100f, FloatKernels.max(x, n));
            }
        }
    }
}
