package dev.unmask.nn;

import dev.unmask.kernels.TransformerKernels;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * SameDiff building blocks shared by the built-in dLLM and the policy network. Everything is
 * spelled out in primitive ops (no fused layer_norm / gelu) so the computation is exactly the one
 * documented for export: pre-LN encoder layer, LayerNorm with epsilon {@value #LN_EPS}, GELU in its
 * sigmoid form x * sigmoid(1.702 x).
 *
 * <p>Activations are kept 2-D, [N, d] with N = batch * length, except inside attention.
 */
public final class TransformerBlocks {
    public static final double LN_EPS = TransformerKernels.LN_EPS;
    public static final double GELU_SIGMOID_SCALE = TransformerKernels.GELU_SIGMOID_SCALE;

    private TransformerBlocks() {
    }

    /** A trainable variable drawn from N(0, std^2) with Java's RNG, so init is reproducible from a seed alone. */
    public static SDVariable normal(SameDiff sd, String name, Random rng, double std, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        float[] data = new float[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) data[i] = (float) (rng.nextGaussian() * std);
        return sd.var(name, Nd4j.create(data, shape, 'c'));
    }

    public static SDVariable constant(SameDiff sd, String name, float value, long... shape) {
        return sd.var(name, Nd4j.valueArrayOf(shape, value, DataType.FLOAT));
    }

    /** y = x W + b with W [in, out] (Xavier-normal init) and b [out] = 0. */
    public static SDVariable linear(SameDiff sd, String name, SDVariable x, long in, long out, Random rng) {
        SDVariable w = normal(sd, name + ".weight", rng, Math.sqrt(2.0 / (in + out)), in, out);
        SDVariable b = constant(sd, name + ".bias", 0f, out);
        return x.mmul(w).add(b);
    }

    /** LayerNorm over the last axis of a 2-D [N, d] input. */
    public static SDVariable layerNorm(SameDiff sd, String name, SDVariable x, long d) {
        SDVariable gain = constant(sd, name + ".gain", 1f, d);
        SDVariable bias = constant(sd, name + ".bias", 0f, d);
        SDVariable centred = x.sub(x.mean(true, 1));
        SDVariable var = centred.mul(centred).mean(true, 1);
        return centred.div(sd.math().sqrt(var.add(LN_EPS))).mul(gain).add(bias);
    }

    public static SDVariable gelu(SameDiff sd, SDVariable x) {
        return x.mul(sd.nn().sigmoid(x.mul(GELU_SIGMOID_SCALE)));
    }

    /**
     * One pre-LN transformer encoder layer: x + MHA(LN(x)), then + MLP(LN(.)).
     *
     * @param x        [N, d] activations, N = B * T
     * @param shapeBT  the LONG vector [B, T] (dynamic)
     * @param keyBias  [B, 1, 1, T]: 0 for real keys, a large negative number for padding
     */
    public static SDVariable encoderLayer(SameDiff sd, String name, SDVariable x, SDVariable shapeBT, SDVariable keyBias,
                                          int d, int heads, int ffDim, Random rng) {
        return encoderLayer(sd, name, x, shapeBT, keyBias, null, d, heads, ffDim, rng);
    }

    /** As above; with {@code rotary} non-null, queries and keys are rotated by position (RoPE) before the scores. */
    public static SDVariable encoderLayer(SameDiff sd, String name, SDVariable x, SDVariable shapeBT, SDVariable keyBias,
                                          Rotary rotary, int d, int heads, int ffDim, Random rng) {
        if (d % heads != 0) throw new IllegalArgumentException("width " + d + " is not divisible by " + heads + " heads");
        int dh = d / heads;
        SDVariable h = layerNorm(sd, name + ".ln1", x, d);
        SDVariable shape4 = sd.concat(0, shapeBT, sd.constant(Nd4j.createFromArray((long) heads, (long) dh)));
        SDVariable q2 = linear(sd, name + ".attn.q", h, d, d, rng), k2 = linear(sd, name + ".attn.k", h, d, d, rng);
        if (rotary != null) {
            q2 = rotary.apply(q2);
            k2 = rotary.apply(k2);
        }
        SDVariable q = splitHeads(sd, q2, shape4);
        SDVariable k = splitHeads(sd, k2, shape4);
        SDVariable v = splitHeads(sd, linear(sd, name + ".attn.v", h, d, d, rng), shape4);
        SDVariable scores = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(dh)).add(keyBias); // [B,H,T,T]
        SDVariable attn = sd.nn().softmax(scores, -1);
        SDVariable ctx = sd.mmul(attn, v).permute(0, 2, 1, 3).reshape(-1, d); // [N, d]
        x = x.add(linear(sd, name + ".attn.out", ctx, d, d, rng));
        SDVariable h2 = layerNorm(sd, name + ".ln2", x, d);
        SDVariable ff = linear(sd, name + ".mlp.out", gelu(sd, linear(sd, name + ".mlp.in", h2, d, ffDim, rng)), ffDim, d, rng);
        return x.add(ff);
    }

    /**
     * Rotary position encoding (RoPE, as in LLaMA/LLaDA, rotate-half layout) on 2-D [N, d]
     * activations whose d columns are {@code heads} blocks of dh: within each head, dimension j
     * and j + dh/2 are rotated by the angle position * base^(-2j/dh). Scores then depend on the
     * offset between query and key, so a skill learnt at one position holds at every position.
     *
     * @param cos       [N, d] cos of each row's angles
     * @param sin       [N, d] sin of each row's angles
     * @param rotate    [d, d] constant with x.mmul(rotate) = rotate_half(x) in every head
     */
    public record Rotary(SDVariable cos, SDVariable sin, SDVariable rotate) {
        public static final double BASE = 10000;

        /** Builds the tables from a flat [N, 1] FLOAT column of positions. */
        public static Rotary of(SameDiff sd, String name, SDVariable positionColumn, int d, int heads) {
            int dh = d / heads;
            if (dh % 2 != 0) throw new IllegalArgumentException("rotary positions need an even head width, not " + dh);
            SDVariable freq = sd.constant(name + ".inv_freq", Nd4j.create(inverseFrequencies(d, heads), new long[]{1, d}, 'c'));
            SDVariable angles = positionColumn.mmul(freq);
            SDVariable rotate = sd.constant(name + ".rotate_half", Nd4j.create(rotateHalf(d, heads), new long[]{d, d}, 'c'));
            return new Rotary(sd.math().cos(angles), sd.math().sin(angles), rotate);
        }

        public SDVariable apply(SDVariable x) {
            return x.mul(cos).add(x.mmul(rotate).mul(sin));
        }

        /** The angle per unit of position for each of the d columns (the same in every head). */
        public static float[] inverseFrequencies(int d, int heads) {
            int dh = d / heads, half = dh / 2;
            float[] f = new float[d];
            for (int c = 0; c < d; c++) f[c] = (float) Math.pow(BASE, -2.0 * ((c % dh) % half) / dh);
            return f;
        }

        /** Row-major [d, d]: column j of head block takes -x[j + dh/2] (first half) or x[j - dh/2] (second half). */
        public static float[] rotateHalf(int d, int heads) {
            int dh = d / heads, half = dh / 2;
            float[] r = new float[d * d];
            for (int hd = 0; hd < heads; hd++) {
                int o = hd * dh;
                for (int j = 0; j < half; j++) {
                    r[(o + j + half) * d + o + j] = -1f;
                    r[(o + j) * d + o + j + half] = 1f;
                }
            }
            return r;
        }
    }

    /** [N, d] -> [B, H, T, dh]. */
    private static SDVariable splitHeads(SameDiff sd, SDVariable x, SDVariable shape4) {
        return sd.reshape(x, shape4).permute(0, 2, 1, 3);
    }

    /** Key-padding bias in the layout the attention expects. */
    public static float[] keyBias(int[] lengths, int maxLen) {
        float[] bias = new float[lengths.length * maxLen];
        for (int b = 0; b < lengths.length; b++) {
            for (int t = lengths[b]; t < maxLen; t++) bias[b * maxLen + t] = -1e9f;
        }
        return bias;
    }
}
