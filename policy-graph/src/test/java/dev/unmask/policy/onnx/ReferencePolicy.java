package dev.unmask.policy.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.io.Safetensors;

import java.util.Map;

/**
 * The policy re-implemented in plain Java (double precision) from policy-spec.json and
 * policy.safetensors alone, following docs/policy-format.md line by line: proof that the page and
 * the spec say enough.
 */
final class ReferencePolicy {
    private final Map<String, Safetensors.Tensor> w;
    private final int f, d, heads, dh, ff;
    private final double eps;

    ReferencePolicy(JsonNode spec, Map<String, Safetensors.Tensor> weights) {
        this.w = weights;
        this.f = spec.get("features").size();
        this.d = spec.get("d_model").asInt();
        this.heads = spec.get("heads").asInt();
        this.dh = spec.get("head_dim").asInt();
        this.ff = spec.get("ff_dim").asInt();
        this.eps = spec.get("layer_norm_epsilon").asDouble();
    }

    /** One window: features [W * F], eligible [W] (1/0); returns logits [W]. */
    double[] logits(float[] features, float[] eligible, int width) {
        double[][] x = new double[width][];
        for (int j = 0; j < width; j++) {
            double[] in = new double[f];
            for (int k = 0; k < f; k++) in[k] = features[j * f + k];
            x[j] = linear(in, "embed", f, d);
            for (int i = 0; i < d / 2; i++) {
                double freq = Math.pow(10000.0, -2.0 * i / d);
                x[j][2 * i] += Math.sin(j * freq);
                x[j][2 * i + 1] += Math.cos(j * freq);
            }
        }
        // attention over eligible keys
        double[][] q = new double[width][], k = new double[width][], v = new double[width][];
        for (int j = 0; j < width; j++) {
            double[] h = layerNorm(x[j], "layer0.ln1");
            q[j] = linear(h, "layer0.attn.q", d, d);
            k[j] = linear(h, "layer0.attn.k", d, d);
            v[j] = linear(h, "layer0.attn.v", d, d);
        }
        double[][] merged = new double[width][d];
        for (int hd = 0; hd < heads; hd++) {
            for (int i = 0; i < width; i++) {
                double[] s = new double[width];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < width; j++) {
                    double dot = 0;
                    for (int c = 0; c < dh; c++) dot += q[i][hd * dh + c] * k[j][hd * dh + c];
                    s[j] = dot / Math.sqrt(dh) + (eligible[j] != 0 ? 0 : -1e9);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < width; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j < width; j++) for (int c = 0; c < dh; c++) merged[i][hd * dh + c] += s[j] / sum * v[j][hd * dh + c];
            }
        }
        double[] out = new double[width];
        for (int j = 0; j < width; j++) {
            double[] a = linear(merged[j], "layer0.attn.out", d, d);
            for (int c = 0; c < d; c++) x[j][c] += a[c];
            double[] hid = linear(layerNorm(x[j], "layer0.ln2"), "layer0.mlp.in", d, ff);
            for (int c = 0; c < ff; c++) hid[c] = hid[c] / (1 + Math.exp(-1.702 * hid[c])); // x * sigmoid(1.702 x)
            double[] m = linear(hid, "layer0.mlp.out", ff, d);
            for (int c = 0; c < d; c++) x[j][c] += m[c];
            out[j] = linear(layerNorm(x[j], "final_ln"), "head", d, 1)[0];
        }
        return out;
    }

    private double[] linear(double[] in, String name, int nIn, int nOut) {
        float[] wt = w.get(name + ".weight").data(), b = w.get(name + ".bias").data();
        double[] y = new double[nOut];
        for (int o = 0; o < nOut; o++) {
            double s = b[o];
            for (int i = 0; i < nIn; i++) s += in[i] * wt[i * nOut + o];
            y[o] = s;
        }
        return y;
    }

    private double[] layerNorm(double[] x, String name) {
        float[] g = w.get(name + ".gain").data(), b = w.get(name + ".bias").data();
        double mean = 0, var = 0;
        for (double v : x) mean += v / x.length;
        for (double v : x) var += (v - mean) * (v - mean) / x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
        return y;
    }
}
