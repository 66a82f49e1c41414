package dev.unmask.rollout;

import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.nn.Blas;
import dev.unmask.kernels.FloatKernels;
import dev.unmask.nn.OffHeapFloats;
import dev.unmask.nn.TransformerBlocks;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * FastPolicyGradients as it was before its update skipped the positions outside the loss
 * (kept verbatim, one method, as of main b0a2a82): the reference that the reduced computation
 * must equal bit for bit ({@code ReducedRowsBitIdentityTest}).
 */
final class ReferencePolicyGradients {
    private static final float LN_EPS = (float) TransformerBlocks.LN_EPS;
    private static final float GELU_SCALE = (float) TransformerBlocks.GELU_SIGMOID_SCALE;

    private final int f, d, heads, dh, ff;
    private final boolean ppo;
    private final double clipEps, entropyCoef, valueCoef, klCoef;
    private final Map<String, long[]> shapes = new TreeMap<>();

    // parameters, off-heap for the products and on-heap for the element-wise work
    private final Map<String, OffHeapFloats> weightsOff = new HashMap<>();
    private final Map<String, float[]> weights = new HashMap<>();
    private final Map<String, OffHeapFloats> gradsOff = new HashMap<>();

    // activations and their gradients
    private int capacity = -1, probCapacity = -1;
    private OffHeapFloats feats, x0, h1, q, k, v, ctx, h2, gel, tmp, dTmp, dX, dH, dq, dk, dv, dctx, dGel, probs, dProbs;
    private float[] hX, hX0, hX1, hH, bZ, bX2, bU, bH2, bLn, bH1, bProj, hXhat1, hXhat2, hXhatF, rstd1, rstd2, rstdF, hU, hSig, hGel, hY, hZ, pe, rowP, rowD, scratch;

    ReferencePolicyGradients(PolicyConfig policy, TrainConfig c) {
        this.f = policy.parsedFeatures().size();
        this.d = policy.dModel();
        this.heads = policy.heads();
        this.dh = d / heads;
        this.ff = policy.ffDim();
        this.ppo = c.algorithm().equals("ppo");
        this.clipEps = c.clipEpsilon();
        this.entropyCoef = c.entropyCoef();
        this.valueCoef = c.valueCoef();
        this.klCoef = c.klCoef();
        shape("embed.weight", f, d);
        shape("embed.bias", d);
        for (String ln : List.of("layer0.ln1", "layer0.ln2", "final_ln")) {
            shape(ln + ".gain", d);
            shape(ln + ".bias", d);
        }
        for (String lin : List.of("q", "k", "v", "out")) {
            shape("layer0.attn." + lin + ".weight", d, d);
            shape("layer0.attn." + lin + ".bias", d);
        }
        shape("layer0.mlp.in.weight", d, ff);
        shape("layer0.mlp.in.bias", ff);
        shape("layer0.mlp.out.weight", ff, d);
        shape("layer0.mlp.out.bias", d);
        shape("head.weight", d, 1);
        shape("head.bias", 1);
        shape("value_head.weight", d, 1);
        shape("value_head.bias", 1);
    }

    private void shape(String name, long... s) {
        shapes.put(name, s);
        long n = 1;
        for (long x : s) n *= x;
        weightsOff.put(name, new OffHeapFloats((int) n));
        gradsOff.put(name, new OffHeapFloats((int) n));
    }

    /** Every parameter name this computation knows (the graph's trainable variables). */
    Set<String> parameterNames() {
        return shapes.keySet();
    }

    /**
     * @param graphWeights the network's current weights by name (float)
     * @param wanted       the parameters whose gradients to return
     */
    FastPolicyGradients.Result compute(Map<String, INDArray> graphWeights, FastPolicyGradients.Minibatch mb, Collection<String> wanted) {
        for (var e : weightsOff.entrySet()) {
            INDArray w = graphWeights.get(e.getKey());
            if (w == null) throw new IllegalStateException("policy weights lack " + e.getKey());
            float[] data = w.dup('c').data().asFloat();
            if (data.length != e.getValue().size()) throw new IllegalStateException(e.getKey() + " has " + data.length + " values, expected " + e.getValue().size());
            e.getValue().put(0, data, 0, data.length);
            weights.put(e.getKey(), data);
        }
        int rows = mb.rows(), w = mb.width(), n = rows * w;
        ensureCapacity(n, rows * heads * w * w, w);

        // ---------------------------------------------------------------------------------- forward
        feats.put(0, mb.features(), 0, n * f);
        gemm(false, false, n, d, f, feats, f, weightsOff.get("embed.weight"), d, x0, d);
        x0.get(0, hX, 0, n * d);
        float[] eb = weights.get("embed.bias");
        for (int i = 0; i < n; i++) {
            int o = i * d, po = (i % w) * d;
            for (int j = 0; j < d; j++) hX[o + j] += eb[j] + pe[po + j];
        }
        System.arraycopy(hX, 0, hX0, 0, n * d); // the residual stream before the attention block
        layerNorm(hX, hXhat1, rstd1, hH, "layer0.ln1", n);
        h1.put(0, hH, 0, n * d);
        linear(h1, "layer0.attn.q", q, n);
        linear(h1, "layer0.attn.k", k, n);
        linear(h1, "layer0.attn.v", v, n);
        float scale = (float) (1.0 / Math.sqrt(dh));
        for (int r = 0; r < rows; r++) {
            for (int hd = 0; hd < heads; hd++) {
                int off = r * w * d + hd * dh, pOff = (r * heads + hd) * w * w;
                Blas.gemm(false, true, w, w, dh, scale, q, off, d, k, off, d, 0f, probs, pOff, w);
                probs.get(pOff, rowP, 0, w * w);
                for (int i = 0; i < w; i++) {
                    int o = i * w;
                    for (int j = 0; j < w; j++) rowP[o + j] += mb.keyBias()[r * w + j];
                }
                FloatKernels.softmaxRows(rowP, w, w, w, scratch);
                probs.put(pOff, rowP, 0, w * w);
                Blas.gemm(false, false, w, dh, w, 1f, probs, pOff, w, v, off, d, 0f, ctx, off, d);
            }
        }
        linear(ctx, "layer0.attn.out", tmp, n);
        tmp.get(0, hH, 0, n * d);
        for (int i = 0; i < n * d; i++) hX[i] = hX0[i] + hH[i];
        System.arraycopy(hX, 0, hX1, 0, n * d); // and before the MLP
        layerNorm(hX, hXhat2, rstd2, hH, "layer0.ln2", n);
        h2.put(0, hH, 0, n * d);
        gemm(false, false, n, ff, d, h2, d, weightsOff.get("layer0.mlp.in.weight"), ff, gel, ff);
        gel.get(0, hU, 0, n * ff);
        float[] bi = weights.get("layer0.mlp.in.bias");
        for (int i = 0; i < n; i++) for (int j = 0; j < ff; j++) hU[i * ff + j] += bi[j];
        for (int i = 0; i < n * ff; i++) hSig[i] = -GELU_SCALE * hU[i];
        FloatKernels.exp(hSig, hSig, n * ff, scratchFor(n * ff));
        for (int i = 0; i < n * ff; i++) {
            hSig[i] = 1f / (1f + hSig[i]);
            hGel[i] = hU[i] * hSig[i];
        }
        gel.put(0, hGel, 0, n * ff);
        gemm(false, false, n, d, ff, gel, ff, weightsOff.get("layer0.mlp.out.weight"), d, tmp, d);
        tmp.get(0, hH, 0, n * d);
        float[] bm = weights.get("layer0.mlp.out.bias");
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) hX[i * d + j] = hX1[i * d + j] + hH[i * d + j] + bm[j];
        layerNorm(hX, hXhatF, rstdF, hY, "final_ln", n);
        float[] wh = weights.get("head.weight");
        float bh = weights.get("head.bias")[0];
        for (int i = 0; i < n; i++) hZ[i] = dotRow(hY, i * d, wh) + bh;

        // value head: mean of the final features over eligible keys (keyBias > -1), then linear
        double[] value = null, pooledCount = null;
        float[][] pooled = null;
        if (ppo) {
            value = new double[rows];
            pooledCount = new double[rows];
            pooled = new float[rows][d];
            float[] wv = weights.get("value_head.weight");
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < w; j++) {
                    if (mb.keyBias()[r * w + j] > -1f) {
                        pooledCount[r]++;
                        for (int c = 0; c < d; c++) pooled[r][c] += hY[(r * w + j) * d + c];
                    }
                }
                double s = weights.get("value_head.bias")[0];
                for (int c = 0; c < d; c++) {
                    pooled[r][c] /= (float) pooledCount[r];
                    s += pooled[r][c] * wv[c];
                }
                value[r] = s;
            }
        }

        // ---------------------------------------------------------------------------------- loss
        float[] a = mb.actions(), el = mb.eligible();
        double[] avgWeight = new double[rows];
        for (int r = 0; r < rows; r++) avgWeight[r] = mb.stepWeights() == null ? 1.0 / rows : mb.stepWeights()[r];
        double surrogateSum = 0, entropySum = 0, klSum = 0, valueSum = 0, clipCount = 0, approxKl = 0;
        double[] dLogp = new double[rows];
        for (int r = 0; r < rows; r++) {
            double logp = 0, ent = 0;
            for (int j = 0; j < w; j++) {
                int i = r * w + j;
                if (el[i] == 0f) continue;
                double z = hZ[i], lsPos = -softplus(-z), lsNeg = -softplus(z), p = 1 / (1 + Math.exp(-z));
                logp += (a[i] * lsPos + (1 - a[i]) * lsNeg) * el[i];
                ent += -(p * lsPos + (1 - p) * lsNeg) * el[i];
            }
            double ratio = Math.exp(logp - mb.oldLogProb()[r]), adv = mb.advantages()[r];
            double clipped = Math.min(Math.max(ratio, 1 - clipEps), 1 + clipEps);
            boolean throughRatio = ratio * adv <= clipped * adv || (ratio > 1 - clipEps && ratio < 1 + clipEps);
            surrogateSum += avgWeight[r] * Math.min(ratio * adv, clipped * adv);
            entropySum += avgWeight[r] * ent;
            dLogp[r] = throughRatio ? -avgWeight[r] * adv * ratio : 0;
            if (Math.abs(ratio - 1) > clipEps) clipCount++;
            approxKl += mb.oldLogProb()[r] - logp;
            if (klCoef > 0) {
                double diff = mb.refLogProb()[r] - logp;
                klSum += avgWeight[r] * (Math.exp(diff) - diff - 1);
                dLogp[r] += klCoef * avgWeight[r] * (1 - Math.exp(diff));
            }
            if (ppo) {
                double err = value[r] - mb.returns()[r];
                valueSum += avgWeight[r] * err * err;
            }
        }
        double loss = -surrogateSum - entropyCoef * entropySum + (ppo ? valueCoef * valueSum : 0) + (klCoef > 0 ? klCoef * klSum : 0);

        // ---------------------------------------------------------------------------------- backward
        float[] dz = bZ;
        Arrays.fill(dz, 0, n, 0f);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < w; j++) {
                int i = r * w + j;
                if (el[i] == 0f) continue;
                double z = hZ[i], p = 1 / (1 + Math.exp(-z));
                // d logp / dz = a - p; d entropy / dz = -z p (1 - p)
                dz[i] = (float) (dLogp[r] * (a[i] - p) + entropyCoef * avgWeight[r] * z * p * (1 - p));
            }
        }
        Map<String, float[]> grads = new HashMap<>();
        float[] gWh = new float[d];
        float gBh = 0;
        float[] dy = hH; // reuse: [N, d]
        for (int i = 0; i < n; i++) {
            gBh += dz[i];
            int o = i * d;
            for (int c = 0; c < d; c++) {
                gWh[c] += hY[o + c] * dz[i];
                dy[o + c] = dz[i] * wh[c];
            }
        }
        grads.put("head.weight", gWh);
        grads.put("head.bias", new float[]{gBh});
        float[] gWv = new float[d];
        float gBv = 0;
        if (ppo) {
            float[] wv = weights.get("value_head.weight");
            for (int r = 0; r < rows; r++) {
                float dV = (float) (valueCoef * avgWeight[r] * 2 * (value[r] - mb.returns()[r]));
                gBv += dV;
                for (int c = 0; c < d; c++) gWv[c] += pooled[r][c] * dV;
                for (int j = 0; j < w; j++) {
                    if (mb.keyBias()[r * w + j] <= -1f) continue;
                    int o = (r * w + j) * d;
                    for (int c = 0; c < d; c++) dy[o + c] += (float) (dV * wv[c] / pooledCount[r]);
                }
            }
        }
        grads.put("value_head.weight", gWv);
        grads.put("value_head.bias", new float[]{gBv});

        float[] dX2 = bX2;
        layerNormBackward(dy, hXhatF, rstdF, "final_ln", dX2, n, grads);
        // MLP
        dTmp.put(0, dX2, 0, n * d);
        gemm(false, true, n, ff, d, dTmp, d, weightsOff.get("layer0.mlp.out.weight"), d, dGel, ff);
        weightGradient(gel, ff, dTmp, d, n, "layer0.mlp.out.weight");
        grads.put("layer0.mlp.out.bias", columnSums(dX2, n, d));
        float[] du = bU;
        dGel.get(0, du, 0, n * ff);
        for (int i = 0; i < n * ff; i++) du[i] *= hSig[i] + GELU_SCALE * hGel[i] * (1f - hSig[i]);
        dGel.put(0, du, 0, n * ff);
        weightGradient(h2, d, dGel, ff, n, "layer0.mlp.in.weight");
        grads.put("layer0.mlp.in.bias", columnSums(du, n, ff));
        gemm(false, true, n, d, ff, dGel, ff, weightsOff.get("layer0.mlp.in.weight"), ff, dH, d);
        float[] dh2 = bH2;
        dH.get(0, dh2, 0, n * d);
        float[] dX1 = dX2; // residual: dX1 = dX2 + LN2'(dh2)
        float[] dLn = bLn;
        layerNormBackward(dh2, hXhat2, rstd2, "layer0.ln2", dLn, n, grads);
        for (int i = 0; i < n * d; i++) dX1[i] += dLn[i];
        // attention output projection
        dTmp.put(0, dX1, 0, n * d);
        gemm(false, true, n, d, d, dTmp, d, weightsOff.get("layer0.attn.out.weight"), d, dctx, d);
        weightGradient(ctx, d, dTmp, d, n, "layer0.attn.out.weight");
        grads.put("layer0.attn.out.bias", columnSums(dX1, n, d));
        // attention
        for (int r = 0; r < rows; r++) {
            for (int hd = 0; hd < heads; hd++) {
                int off = r * w * d + hd * dh, pOff = (r * heads + hd) * w * w;
                Blas.gemm(false, true, w, w, dh, 1f, dctx, off, d, v, off, d, 0f, dProbs, pOff, w);   // dP = dctx V^T
                Blas.gemm(true, false, w, dh, w, 1f, probs, pOff, w, dctx, off, d, 0f, dv, off, d);    // dV = P^T dctx
                probs.get(pOff, rowP, 0, w * w);
                dProbs.get(pOff, rowD, 0, w * w);
                for (int i = 0; i < w; i++) {
                    int o = i * w;
                    float s = 0;
                    for (int j = 0; j < w; j++) s += rowD[o + j] * rowP[o + j];
                    for (int j = 0; j < w; j++) rowD[o + j] = rowP[o + j] * (rowD[o + j] - s);
                }
                dProbs.put(pOff, rowD, 0, w * w);
                Blas.gemm(false, false, w, dh, w, scale, dProbs, pOff, w, k, off, d, 0f, dq, off, d);  // dQ = dS K s
                Blas.gemm(true, false, w, dh, w, scale, dProbs, pOff, w, q, off, d, 0f, dk, off, d);   // dK = dS^T Q s
            }
        }
        float[] dh1 = bH1;
        Arrays.fill(dh1, 0, n * d, 0f);
        for (String lin : List.of("q", "k", "v")) {
            OffHeapFloats g = lin.equals("q") ? dq : lin.equals("k") ? dk : dv;
            weightGradient(h1, d, g, d, n, "layer0.attn." + lin + ".weight");
            float[] heap = bProj;
            g.get(0, heap, 0, n * d);
            grads.put("layer0.attn." + lin + ".bias", columnSums(heap, n, d));
            gemm(false, true, n, d, d, g, d, weightsOff.get("layer0.attn." + lin + ".weight"), d, dH, d);
            dH.get(0, heap, 0, n * d);
            for (int i = 0; i < n * d; i++) dh1[i] += heap[i];
        }
        float[] dX0 = dX1;
        layerNormBackward(dh1, hXhat1, rstd1, "layer0.ln1", dLn, n, grads);
        for (int i = 0; i < n * d; i++) dX0[i] += dLn[i];
        dX.put(0, dX0, 0, n * d);
        weightGradient(feats, f, dX, d, n, "embed.weight");
        grads.put("embed.bias", columnSums(dX0, n, d));

        Map<String, INDArray> out = new TreeMap<>();
        for (String name : wanted) {
            float[] g = grads.get(name);
            if (g == null) {
                OffHeapFloats off = gradsOff.get(name);
                if (off == null) throw new IllegalArgumentException("no parameter " + name);
                g = off.toArray();
            }
            out.put(name, Nd4j.create(g, shapes.get(name), 'c'));
        }
        return new FastPolicyGradients.Result(loss, clipCount / rows, approxKl / rows, entropySum, klSum, out);
    }

    private static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    private static float dotRow(float[] m, int from, float[] w) {
        float s = 0;
        for (int c = 0; c < w.length; c++) s += m[from + c] * w[c];
        return s;
    }

    /** out [n, cols] = in [n, inner] W + (no bias). */
    private void gemm(boolean ta, boolean tb, int m, int nCols, int kInner, OffHeapFloats a, int lda, OffHeapFloats b, int ldb, OffHeapFloats c, int ldc) {
        Blas.gemm(ta, tb, m, nCols, kInner, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, ldc);
    }

    /** out = in W + b for a [d, d] linear layer named {@code name}. */
    private void linear(OffHeapFloats in, String name, OffHeapFloats out, int n) {
        gemm(false, false, n, d, d, in, d, weightsOff.get(name + ".weight"), d, out, d);
        float[] b = weights.get(name + ".bias");
        float[] row = rowD;
        for (int i = 0; i < n; i++) {
            out.get(i * d, row, 0, d);
            for (int j = 0; j < d; j++) row[j] += b[j];
            out.put(i * d, row, 0, d);
        }
    }

    /** grad[name] = in^T dOut, in [n, inCols], dOut [n, outCols]. */
    private void weightGradient(OffHeapFloats in, int inCols, OffHeapFloats dOut, int outCols, int n, String name) {
        Blas.gemm(true, false, inCols, outCols, n, 1f, in, 0, inCols, dOut, 0, outCols, 0f, gradsOff.get(name), 0, outCols);
    }

    private static float[] columnSums(float[] m, int n, int cols) {
        float[] s = new float[cols];
        for (int i = 0; i < n; i++) for (int j = 0; j < cols; j++) s[j] += m[i * cols + j];
        return s;
    }

    /** Row-wise LayerNorm of x [n, d] into out, keeping x-hat and 1/std. */
    private void layerNorm(float[] x, float[] xhat, float[] rstd, float[] out, String name, int n) {
        float[] g = weights.get(name + ".gain"), b = weights.get(name + ".bias");
        for (int i = 0; i < n; i++) {
            int o = i * d;
            float mean = 0;
            for (int j = 0; j < d; j++) mean += x[o + j];
            mean /= d;
            float var = 0;
            for (int j = 0; j < d; j++) {
                float c = x[o + j] - mean;
                xhat[o + j] = c;
                var += c * c;
            }
            float rs = (float) (1.0 / Math.sqrt(var / d + LN_EPS));
            rstd[i] = rs;
            for (int j = 0; j < d; j++) {
                xhat[o + j] *= rs;
                out[o + j] = xhat[o + j] * g[j] + b[j];
            }
        }
    }

    /** dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), with dxhat = dy gain; adds the gain's and bias's gradients to grads. */
    private void layerNormBackward(float[] dy, float[] xhat, float[] rstd, String name, float[] dx, int n, Map<String, float[]> grads) {
        float[] g = weights.get(name + ".gain");
        float[] dGain = new float[d], dBias = new float[d];
        for (int i = 0; i < n; i++) {
            int o = i * d;
            float m1 = 0, m2 = 0;
            for (int j = 0; j < d; j++) {
                float dxh = dy[o + j] * g[j];
                dGain[j] += dy[o + j] * xhat[o + j];
                dBias[j] += dy[o + j];
                m1 += dxh;
                m2 += dxh * xhat[o + j];
            }
            m1 /= d;
            m2 /= d;
            for (int j = 0; j < d; j++) dx[o + j] = rstd[i] * (dy[o + j] * g[j] - m1 - xhat[o + j] * m2);
        }
        grads.put(name + ".gain", dGain);
        grads.put(name + ".bias", dBias);
    }

    private float[] scratchFor(int size) {
        if (scratch.length < size) scratch = new float[size];
        return scratch;
    }

    private void ensureCapacity(int n, int probSize, int width) {
        if (pe == null || pe.length != width * d) pe = PolicyWindow.sinusoid(width, d);
        if (rowP == null || rowP.length < width * width) {
            rowP = new float[Math.max(width * width, d)];
            rowD = new float[Math.max(width * width, d)];
            scratch = new float[Math.max(width * width, 1)];
        }
        if (probSize > probCapacity) {
            probs = new OffHeapFloats(probSize);
            dProbs = new OffHeapFloats(probSize);
            probCapacity = probSize;
        }
        if (n <= capacity) return;
        capacity = n;
        feats = new OffHeapFloats(n * f);
        x0 = new OffHeapFloats(n * d);
        h1 = new OffHeapFloats(n * d);
        q = new OffHeapFloats(n * d);
        k = new OffHeapFloats(n * d);
        v = new OffHeapFloats(n * d);
        ctx = new OffHeapFloats(n * d);
        h2 = new OffHeapFloats(n * d);
        tmp = new OffHeapFloats(n * d);
        dTmp = new OffHeapFloats(n * d);
        dX = new OffHeapFloats(n * d);
        dH = new OffHeapFloats(n * d);
        dq = new OffHeapFloats(n * d);
        dk = new OffHeapFloats(n * d);
        dv = new OffHeapFloats(n * d);
        dctx = new OffHeapFloats(n * d);
        gel = new OffHeapFloats(n * ff);
        dGel = new OffHeapFloats(n * ff);
        hX = new float[n * d];
        hX0 = new float[n * d];
        hX1 = new float[n * d];
        hH = new float[n * d];
        hXhat1 = new float[n * d];
        hXhat2 = new float[n * d];
        hXhatF = new float[n * d];
        hY = new float[n * d];
        rstd1 = new float[n];
        rstd2 = new float[n];
        rstdF = new float[n];
        hZ = new float[n];
        // the backward pass's scratch, reused by every minibatch
        bZ = new float[n];
        bX2 = new float[n * d];
        bU = new float[n * ff];
        bH2 = new float[n * d];
        bLn = new float[n * d];
        bH1 = new float[n * d];
        bProj = new float[n * d];
        hU = new float[n * ff];
        hSig = new float[n * ff];
        hGel = new float[n * ff];
    }
}
