package dev.unmask.dllm;

import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.TransformerBlocks;

import java.util.Map;

/**
 * The built-in dLLM's forward pass in double precision, written as plainly as possible (one row at
 * a time, no padding): the yardstick both float implementations are measured against.
 */
final class ReferenceForward {
    private final DllmConfig c;
    private final Map<String, Safetensors.Tensor> w;
    private final int vocab;

    ReferenceForward(DllmConfig c, int vocab, Map<String, Safetensors.Tensor> weights) {
        this.c = c;
        this.vocab = vocab;
        this.w = weights;
    }

    private float[] t(String name) {
        return w.get(name).data();
    }

    /** Logits [length][vocab] of one sequence. */
    double[][] logits(int[] seq) {
        return linear(hidden(seq), "head", vocab);
    }

    /** The last hidden state [length][d] of one sequence: the final LayerNorm's output. */
    double[][] hidden(int[] seq) {
        int n = seq.length, d = c.dModel(), heads = c.heads(), dh = d / heads, ff = c.ffDim();
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = t("embed.tokens")[seq[i] * d + j];
                if (!c.rotaryOnly()) x[i][j] += t("embed.positions")[i * d + j];
            }
        }
        float[] freq = TransformerBlocks.Rotary.inverseFrequencies(d, heads);
        for (int l = 0; l < c.layers(); l++) {
            String p = "layer" + l;
            double[][] h = layerNorm(x, p + ".ln1");
            double[][] q = linear(h, p + ".attn.q", d), k = linear(h, p + ".attn.k", d), v = linear(h, p + ".attn.v", d);
            if (c.rotary()) {
                q = rotate(q, freq, dh);
                k = rotate(k, freq, dh);
            }
            double[][] ctx = new double[n][d];
            for (int hd = 0; hd < heads; hd++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        for (int e = 0; e < dh; e++) s[j] += q[i][hd * dh + e] * k[j][hd * dh + e];
                        s[j] /= Math.sqrt(dh);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j < n; j++) for (int e = 0; e < dh; e++) ctx[i][hd * dh + e] += s[j] / sum * v[j][hd * dh + e];
                }
            }
            add(x, linear(ctx, p + ".attn.out", d));
            double[][] u = linear(layerNorm(x, p + ".ln2"), p + ".mlp.in", ff);
            for (double[] row : u) for (int j = 0; j < ff; j++) row[j] = row[j] / (1 + Math.exp(-TransformerBlocks.GELU_SIGMOID_SCALE * row[j]));
            add(x, linear(u, p + ".mlp.out", d));
        }
        return layerNorm(x, "final_ln");
    }

    private double[][] rotate(double[][] m, float[] freq, int dh) {
        int half = dh / 2;
        double[][] out = new double[m.length][m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int col = 0; col < m[i].length; col++) {
                int o = col / dh * dh, j = col - o;
                double turned = j < half ? -m[i][o + j + half] : m[i][o + j - half];
                double angle = (double) i * freq[col];
                out[i][col] = m[i][col] * Math.cos(angle) + turned * Math.sin(angle);
            }
        }
        return out;
    }

    private double[][] layerNorm(double[][] x, String name) {
        int d = x[0].length;
        double[][] out = new double[x.length][d];
        for (int i = 0; i < x.length; i++) {
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v / d;
            for (double v : x[i]) var += (v - mean) * (v - mean) / d;
            for (int j = 0; j < d; j++) out[i][j] = (x[i][j] - mean) / Math.sqrt(var + TransformerBlocks.LN_EPS) * t(name + ".gain")[j] + t(name + ".bias")[j];
        }
        return out;
    }

    private double[][] linear(double[][] x, String name, int out) {
        int in = x[0].length;
        float[] wt = t(name + ".weight"), b = t(name + ".bias");
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int e = 0; e < in; e++) s += x[i][e] * wt[e * out + o];
                y[i][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) for (int j = 0; j < x[i].length; j++) x[i][j] += y[i][j];
    }
}
