package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import dev.unmask.kernels.FloatKernels;
import dev.unmask.kernels.TransformerKernels;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The policy network in plain Java: the same computation as the SameDiff graph ({@code
 * policy-graph}'s {@code PolicyNet}, documented in docs/policy-format.md) with no native library,
 * for a Java program that only decides (an inference engine, a server). Per window row:
 * <pre>
 *   x = features W_embed + b_embed + sinusoid(index)
 *   x = x + MHA(LN1(x)) (keys with bias -1e9 get no weight), x = x + MLP(LN2(x)), GELU u * sigmoid(1.702 u)
 *   logit = LN_final(x) w_head + b_head;  value = mean of LN_final(x) over eligible keys, then w_value + b_value
 * </pre>
 * Its logits agree with the SameDiff graph's to float rounding (about 1e-6), not to the bit, so a
 * learned row evaluated on it can differ from a committed one where a probability sits on the 0.5
 * bar or two fallback candidates tie; evaluations that replay committed rows run the graph. Not
 * thread-safe.
 */
public final class JavaPolicyNet implements PolicyModel {
    private final PolicyConfig config;
    private final int f, d, heads, dh, ff;
    private final Map<String, Safetensors.Tensor> weights;
    private final float[] embedW, embedB, ln1G, ln1B, qW, qB, kW, kB, vW, vB, outW, outB, ln2G, ln2B, inW, inB, mlpOutW, mlpOutB,
            lnFG, lnFB, headW, valueW;
    private final float headB, valueB;

    public JavaPolicyNet(PolicyConfig config, Map<String, Safetensors.Tensor> weights, String source) {
        this.config = config;
        this.f = config.parsedFeatures().size();
        this.d = config.dModel();
        this.heads = config.heads();
        this.dh = d / heads;
        this.ff = config.ffDim();
        Map<String, Safetensors.Tensor> copy = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes().entrySet()) {
            Safetensors.Tensor t = weights.get(e.getKey());
            if (t == null) throw new UnmaskException(source + ": no tensor " + e.getKey() + " for a policy of " + f + " features, width " + d);
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new UnmaskException(source + ": " + e.getKey() + " has shape " + Arrays.toString(t.shape())
                        + ", the configuration needs " + Arrays.toString(e.getValue()));
            }
            copy.put(e.getKey(), new Safetensors.Tensor(t.shape().clone(), t.data().clone()));
        }
        this.weights = copy;
        embedW = w("embed.weight");
        embedB = w("embed.bias");
        ln1G = w("layer0.ln1.gain");
        ln1B = w("layer0.ln1.bias");
        qW = w("layer0.attn.q.weight");
        qB = w("layer0.attn.q.bias");
        kW = w("layer0.attn.k.weight");
        kB = w("layer0.attn.k.bias");
        vW = w("layer0.attn.v.weight");
        vB = w("layer0.attn.v.bias");
        outW = w("layer0.attn.out.weight");
        outB = w("layer0.attn.out.bias");
        ln2G = w("layer0.ln2.gain");
        ln2B = w("layer0.ln2.bias");
        inW = w("layer0.mlp.in.weight");
        inB = w("layer0.mlp.in.bias");
        mlpOutW = w("layer0.mlp.out.weight");
        mlpOutB = w("layer0.mlp.out.bias");
        lnFG = w("final_ln.gain");
        lnFB = w("final_ln.bias");
        headW = w("head.weight");
        headB = w("head.bias")[0];
        valueW = w("value_head.weight");
        valueB = w("value_head.bias")[0];
    }

    /** The network of a checkpoint folder (RUN/policy), checksums verified. */
    public static JavaPolicyNet load(Path dir) {
        PolicyCheckpoint.Stored stored = PolicyCheckpoint.read(dir);
        return new JavaPolicyNet(stored.config(), stored.weights(), stored.source());
    }

    /**
     * A fresh network with the SameDiff graph's initial weights for the same configuration: each
     * linear layer's weight drawn from N(0, 2 / (in + out)) with {@code new Random(initSeed)} in the
     * graph's order, biases 0, LayerNorm gains 1.
     */
    public static JavaPolicyNet initial(PolicyConfig config) {
        int f = config.parsedFeatures().size(), d = config.dModel(), ff = config.ffDim();
        Random rng = new Random(config.initSeed());
        Map<String, Safetensors.Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(f, d, ff).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            float[] data = new float[Math.toIntExact(shape.length == 1 ? shape[0] : shape[0] * shape[1])];
            if (name.endsWith(".gain")) Arrays.fill(data, 1f);
            else if (name.endsWith(".weight")) {
                double std = Math.sqrt(2.0 / (shape[0] + shape[1]));
                for (int i = 0; i < data.length; i++) data[i] = (float) (rng.nextGaussian() * std);
            }
            w.put(name, new Safetensors.Tensor(shape, data));
        }
        return new JavaPolicyNet(config, w, "initial weights");
    }

    private Map<String, long[]> shapes() {
        return shapes(f, d, ff);
    }

    /** Every tensor, in the order the SameDiff graph creates (and draws) them. */
    private static Map<String, long[]> shapes(int f, int d, int ff) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("embed.weight", new long[]{f, d});
        s.put("embed.bias", new long[]{d});
        s.put("layer0.ln1.gain", new long[]{d});
        s.put("layer0.ln1.bias", new long[]{d});
        for (String p : new String[]{"q", "k", "v", "out"}) {
            s.put("layer0.attn." + p + ".weight", new long[]{d, d});
            s.put("layer0.attn." + p + ".bias", new long[]{d});
        }
        s.put("layer0.ln2.gain", new long[]{d});
        s.put("layer0.ln2.bias", new long[]{d});
        s.put("layer0.mlp.in.weight", new long[]{d, ff});
        s.put("layer0.mlp.in.bias", new long[]{ff});
        s.put("layer0.mlp.out.weight", new long[]{ff, d});
        s.put("layer0.mlp.out.bias", new long[]{d});
        s.put("final_ln.gain", new long[]{d});
        s.put("final_ln.bias", new long[]{d});
        s.put("head.weight", new long[]{d, 1});
        s.put("head.bias", new long[]{1});
        s.put("value_head.weight", new long[]{d, 1});
        s.put("value_head.bias", new long[]{1});
        return s;
    }

    private float[] w(String name) {
        return weights.get(name).data();
    }

    @Override
    public PolicyConfig config() {
        return config;
    }

    @Override
    public String runtime() {
        return "java";
    }

    @Override
    public Map<String, Safetensors.Tensor> weights() {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        weights.forEach((k, t) -> out.put(k, new Safetensors.Tensor(t.shape().clone(), t.data().clone())));
        return out;
    }

    @Override
    public Output forward(PolicyWindow win, boolean withValues) {
        int rows = win.rows(), w = win.width();
        float[][] logits = new float[rows][w];
        float[] values = withValues ? new float[rows] : null;
        float[] pe = PolicyWindow.sinusoid(w, d);
        float[] x = new float[w * d], h = new float[w * d], xhat = new float[w * d], q = new float[w * d], k = new float[w * d],
                v = new float[w * d], ctx = new float[w * d], t = new float[w * d], u = new float[w * ff], sig = new float[w * ff],
                scores = new float[w], scratch = new float[Math.max(w, w * ff)], in = new float[w * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(win.features(), r * w * f, in, 0, w * f);
            linear(in, w, f, embedW, embedB, d, x);
            for (int i = 0; i < w * d; i++) x[i] += pe[i];
            for (int i = 0; i < w; i++) TransformerKernels.layerNormRow(x, xhat, h, i * d, ln1G, ln1B, d);
            linear(h, w, d, qW, qB, d, q);
            linear(h, w, d, kW, kB, d, k);
            linear(h, w, d, vW, vB, d, v);
            attention(q, k, v, win.keyBias(), r * w, w, ctx, scores, scratch);
            linear(ctx, w, d, outW, outB, d, t);
            for (int i = 0; i < w * d; i++) x[i] += t[i];
            for (int i = 0; i < w; i++) TransformerKernels.layerNormRow(x, xhat, h, i * d, ln2G, ln2B, d);
            linear(h, w, d, inW, inB, ff, u);
            TransformerKernels.gelu(u, sig, u, w * ff, scratch);
            linear(u, w, ff, mlpOutW, mlpOutB, d, t);
            for (int i = 0; i < w * d; i++) x[i] += t[i];
            for (int i = 0; i < w; i++) TransformerKernels.layerNormRow(x, xhat, h, i * d, lnFG, lnFB, d);
            boolean[] eligible = win.eligible() == null ? null : win.eligible()[r];
            for (int i = 0; i < w; i++) {
                float z = 0;
                for (int j = 0; j < d; j++) z += h[i * d + j] * headW[j];
                z += headB;
                logits[r][i] = eligible == null || eligible[i] ? z : Float.NEGATIVE_INFINITY;
            }
            if (withValues) {
                // the mean of the final features over the positions the attention sees (key bias > -1)
                float[] pooled = new float[d];
                int count = 0;
                for (int i = 0; i < w; i++) {
                    if (!(win.keyBias()[r * w + i] > -1f)) continue;
                    count++;
                    for (int j = 0; j < d; j++) pooled[j] += h[i * d + j];
                }
                float value = 0;
                for (int j = 0; j < d; j++) value += pooled[j] / count * valueW[j]; // no eligible key: NaN, as in the graph
                values[r] = value + valueB;
            }
        }
        return new Output(logits, values);
    }

    /** out [n, outDim] = in [n, inDim] W [inDim, outDim] + b, each sum in index order. */
    private static void linear(float[] in, int n, int inDim, float[] weight, float[] bias, int outDim, float[] out) {
        for (int i = 0; i < n; i++) {
            int o = i * outDim;
            Arrays.fill(out, o, o + outDim, 0f);
            for (int c = 0; c < inDim; c++) {
                float a = in[i * inDim + c];
                int wo = c * outDim;
                for (int j = 0; j < outDim; j++) out[o + j] += a * weight[wo + j];
            }
            for (int j = 0; j < outDim; j++) out[o + j] += bias[j];
        }
    }

    /** Every head: scores = q k^T / sqrt(dh) + key bias, softmax over the keys, ctx = p v. */
    private void attention(float[] q, float[] k, float[] v, float[] keyBias, int biasAt, int w, float[] ctx, float[] scores, float[] scratch) {
        float scale = (float) (1.0 / Math.sqrt(dh));
        Arrays.fill(ctx, 0, w * d, 0f);
        for (int hd = 0; hd < heads; hd++) {
            int ho = hd * dh;
            for (int i = 0; i < w; i++) {
                for (int j = 0; j < w; j++) {
                    float s = 0;
                    for (int c = 0; c < dh; c++) s += q[i * d + ho + c] * k[j * d + ho + c];
                    scores[j] = s * scale + keyBias[biasAt + j];
                }
                FloatKernels.softmax(scores, w, scratch);
                for (int j = 0; j < w; j++) {
                    float p = scores[j];
                    for (int c = 0; c < dh; c++) ctx[i * d + ho + c] += p * v[j * d + ho + c];
                }
            }
        }
    }
}
