package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.Blas;
import dev.unmask.kernels.FloatKernels;
import dev.unmask.kernels.TransformerKernels;
import dev.unmask.nn.OffHeapFloats;
import dev.unmask.nn.ParameterSlot;
import dev.unmask.nn.TransformerBlocks;

import java.util.*;

/**
 * The built-in dLLM's forward and backward pass written out by hand: the same architecture,
 * parameter names and shapes as the SameDiff graph of {@link BuiltinDllm} (and the ONNX export),
 * so weights move between them unchanged. Matrix products go straight to OpenBLAS
 * ({@link Blas}) on buffers allocated once per batch shape; everything element-wise (LayerNorm,
 * softmax, GELU, rotary positions, residual adds, the loss) is a fused Java loop over rows. Rotary
 * positions rotate halves element-wise instead of multiplying by a [d, d] matrix; attention skips
 * padding keys instead of adding -1e9 to their scores (their weight is exactly 0 either way).
 *
 * <p>Layout: activations are row-major [N, d] with N = rows * T (T = the longest row of the
 * batch); a head's queries are the dh columns at h * dh, read in place with a row stride of d.
 *
 * <p>As a {@link Denoiser} it answers what the SameDiff model answers (to float rounding), for
 * comparison and benchmarks; the default inference path stays {@link BuiltinDllm}.
 *
 * <p>Not thread-safe; one instance per thread.
 */
public final class FastDllm implements Denoiser {
    /** Offsets of one encoder layer's parameters in the flat buffer. */
    private record LayerParams(int ln1Gain, int ln1Bias, int q, int qBias, int k, int kBias, int v, int vBias, int out, int outBias,
                               int ln2Gain, int ln2Bias, int mlpIn, int mlpInBias, int mlpOut, int mlpOutBias) {
    }


    private final DllmConfig config;
    private final Vocabulary vocabulary;
    private String description = "builtin";
    private final int vocab, d, heads, dh, ff, layers;
    private final boolean learnedPositions;
    private final float attentionScale;
    private final Map<String, ParameterSlot> slots = new TreeMap<>();
    private final OffHeapFloats params, grads;
    private final int tokenTable, positionTable, finalGain, finalBias, headWeight, headBias;
    private final LayerParams[] layerParams;
    /** Rotary tables by position: cos and sin of each column's angle (null without rotary). */
    private final float[][] cos, sin;

    // activations and gradients, (re)allocated when a batch needs more room
    private int capacityRows, capacityLength;
    private LayerActivations[] acts;
    private OffHeapFloats x, tmp, xhatFinal, hFinal, logits, dLogits, dx, dTmp, dq, dk, dv, dCtx, dFf, dProbs;
    private float[] rstdFinal;
    private float[] hiddenProjection;
    private final float[] r0, r1, r2, r3, r4, scratch, gain, bias, acc0, acc1;
    /** One head's [T, T] attention block: probabilities, their gradient, exp scratch. */
    private final float[] blockP, blockG, blockScratch;

    private static final class LayerActivations {
        OffHeapFloats xhat1, h, q, k, v, probs, ctx, xhat2, h2, sig, gelu;
        float[] rstd1, rstd2;
    }

    /** Copies {@code weights} (every parameter of the architecture, by name). */
    public FastDllm(DllmConfig config, Vocabulary vocabulary, Map<String, Safetensors.Tensor> weights) {
        this.config = config;
        this.vocabulary = vocabulary;
        this.vocab = vocabulary.size();
        this.d = config.dModel();
        this.heads = config.heads();
        this.dh = d / heads;
        this.ff = config.ffDim();
        this.layers = config.layers();
        this.learnedPositions = !config.rotaryOnly();
        this.attentionScale = (float) (1.0 / Math.sqrt(dh));

        Map<String, long[]> shapes = new TreeMap<>();
        shapes.put("embed.tokens", new long[]{vocab, d});
        if (learnedPositions) shapes.put("embed.positions", new long[]{config.maxLength(), d});
        for (int l = 0; l < layers; l++) {
            String p = "layer" + l;
            for (String ln : List.of(".ln1", ".ln2")) {
                shapes.put(p + ln + ".gain", new long[]{d});
                shapes.put(p + ln + ".bias", new long[]{d});
            }
            for (String lin : List.of(".attn.q", ".attn.k", ".attn.v", ".attn.out")) {
                shapes.put(p + lin + ".weight", new long[]{d, d});
                shapes.put(p + lin + ".bias", new long[]{d});
            }
            shapes.put(p + ".mlp.in.weight", new long[]{d, ff});
            shapes.put(p + ".mlp.in.bias", new long[]{ff});
            shapes.put(p + ".mlp.out.weight", new long[]{ff, d});
            shapes.put(p + ".mlp.out.bias", new long[]{d});
        }
        shapes.put("final_ln.gain", new long[]{d});
        shapes.put("final_ln.bias", new long[]{d});
        shapes.put("head.weight", new long[]{d, vocab});
        shapes.put("head.bias", new long[]{vocab});
        int offset = 0;
        for (var e : shapes.entrySet()) {
            long n = 1;
            for (long s : e.getValue()) n *= s;
            slots.put(e.getKey(), new ParameterSlot(e.getKey(), e.getValue(), offset, Math.toIntExact(n)));
            offset = Math.addExact(offset, Math.toIntExact(n));
        }
        this.params = new OffHeapFloats(offset);
        this.grads = new OffHeapFloats(offset);
        loadWeights(weights, "weights");

        tokenTable = at("embed.tokens");
        positionTable = learnedPositions ? at("embed.positions") : -1;
        finalGain = at("final_ln.gain");
        finalBias = at("final_ln.bias");
        headWeight = at("head.weight");
        headBias = at("head.bias");
        layerParams = new LayerParams[layers];
        for (int l = 0; l < layers; l++) {
            String p = "layer" + l;
            layerParams[l] = new LayerParams(at(p + ".ln1.gain"), at(p + ".ln1.bias"), at(p + ".attn.q.weight"), at(p + ".attn.q.bias"),
                    at(p + ".attn.k.weight"), at(p + ".attn.k.bias"), at(p + ".attn.v.weight"), at(p + ".attn.v.bias"),
                    at(p + ".attn.out.weight"), at(p + ".attn.out.bias"), at(p + ".ln2.gain"), at(p + ".ln2.bias"),
                    at(p + ".mlp.in.weight"), at(p + ".mlp.in.bias"), at(p + ".mlp.out.weight"), at(p + ".mlp.out.bias"));
        }
        if (config.rotary()) {
            float[] freq = TransformerBlocks.Rotary.inverseFrequencies(d, heads);
            cos = new float[config.maxLength()][d];
            sin = new float[config.maxLength()][d];
            for (int p = 0; p < config.maxLength(); p++) {
                for (int c = 0; c < d; c++) {
                    float angle = (float) p * freq[c]; // the float product the SameDiff graph takes
                    cos[p][c] = (float) Math.cos(angle);
                    sin[p][c] = (float) Math.sin(angle);
                }
            }
        } else {
            cos = sin = null;
        }
        int width = Math.max(Math.max(d, ff), Math.max(vocab, config.maxLength()));
        r0 = new float[width];
        r1 = new float[width];
        r2 = new float[width];
        r3 = new float[width];
        r4 = new float[width];
        scratch = new float[width];
        blockP = new float[config.maxLength() * config.maxLength()];
        blockG = new float[blockP.length];
        blockScratch = new float[blockP.length];
        gain = new float[width];
        bias = new float[width];
        acc0 = new float[width];
        acc1 = new float[width];
    }

    /** The model of a built-in checkpoint folder, without building its SameDiff graph. */
    public static FastDllm ofCheckpoint(java.nio.file.Path dir) {
        DllmCheckpoint.Contents c = DllmCheckpoint.read(dir);
        FastDllm fast = new FastDllm(c.config(), c.vocabulary(), c.weights());
        fast.description = c.description();
        return fast;
    }

    /** A model with the weights of a SameDiff one. */
    public static FastDllm of(BuiltinDllm model) {
        FastDllm fast = new FastDllm(model.config(), model.vocabulary(), model.weights());
        fast.description = model.describe();
        return fast;
    }

    private int at(String name) {
        return slots.get(name).offset();
    }

    public DllmConfig config() {
        return config;
    }

    @Override
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    @Override
    public int maxLength() {
        return config.maxLength();
    }

    @Override
    public String describe() {
        return "fast:" + description;
    }

    @Override
    public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
        Denoiser.validate(this, sequences, query);
        int maxLen = 0;
        for (int[] s : sequences) maxLen = Math.max(maxLen, s.length);
        return Predictions.fromLogits(logits(sequences), maxLen, vocab, query, withDistributions, vocabulary.maskId());
    }

    /**
     * With every token's hidden-state features: the final LayerNorm's output of the same forward
     * pass, projected by {@link HiddenFeatures#projection}.
     */
    @Override
    public Predictions predictWithHidden(int[][] sequences, boolean[][] query, boolean withDistributions) {
        Predictions p = predict(sequences, query, withDistributions);
        int len = 0;
        for (int[] s : sequences) len = Math.max(len, s.length);
        if (hiddenProjection == null) hiddenProjection = HiddenFeatures.projection(d);
        int w = HiddenFeatures.WIDTH;
        float[][] hidden = new float[sequences.length][];
        float[] row = new float[d];
        for (int b = 0; b < sequences.length; b++) {
            hidden[b] = new float[sequences[b].length * w];
            for (int i = 0; i < sequences[b].length; i++) {
                hFinal.get((b * len + i) * d, row, 0, d);
                HiddenFeatures.project(row, 0, d, hiddenProjection, hidden[b], i * w);
            }
        }
        return p.withHidden(hidden);
    }

    /** Parameter tensors by name, in name order. */
    public List<ParameterSlot> slots() {
        return List.copyOf(slots.values());
    }

    /** All parameters, concatenated in {@link #slots()} order. */
    public OffHeapFloats parameters() {
        return params;
    }

    /** The gradient of the last {@link #lossAndGradients} call, laid out as {@link #parameters()}. */
    public OffHeapFloats gradients() {
        return grads;
    }

    public Map<String, Safetensors.Tensor> weights() {
        return tensors(params);
    }

    /** The last gradient by parameter name. */
    public Map<String, Safetensors.Tensor> gradientTensors() {
        return tensors(grads);
    }

    private Map<String, Safetensors.Tensor> tensors(OffHeapFloats flat) {
        Map<String, Safetensors.Tensor> out = new TreeMap<>();
        for (ParameterSlot s : slots.values()) {
            float[] data = new float[s.size()];
            flat.get(s.offset(), data, 0, s.size());
            out.put(s.name(), new Safetensors.Tensor(s.shape().clone(), data));
        }
        return out;
    }

    /** Replaces every weight; a missing, extra or differently shaped tensor is a one-line error naming it. */
    public void loadWeights(Map<String, Safetensors.Tensor> tensors, String source) {
        for (ParameterSlot s : slots.values()) {
            Safetensors.Tensor t = tensors.get(s.name());
            if (t == null) throw new UnmaskException(source + ": tensor " + s.name() + " is missing");
            if (!Arrays.equals(t.shape(), s.shape())) {
                throw new UnmaskException(source + ": tensor " + s.name() + " has shape " + Arrays.toString(t.shape())
                        + " but the config expects " + Arrays.toString(s.shape()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!slots.containsKey(name)) throw new UnmaskException(source + ": unexpected tensor " + name + " (not part of this architecture)");
        }
        for (ParameterSlot s : slots.values()) params.put(s.offset(), tensors.get(s.name()).data(), 0, s.size());
    }

    /** Raw logits, flat [rows x maxLen x vocab], rows right-padded to the longest, as {@link BuiltinDllm#logits}. */
    public float[] logits(int[][] sequences) {
        Batch b = Batch.of(sequences, vocabulary.padId());
        forward(b, false);
        float[] out = new float[b.rows * b.length * vocab];
        logits.get(0, out, 0, out.length);
        return out;
    }

    /**
     * The training loss of {@link BuiltinDllm}'s graph, sum over positions of weight * (-log p(target)),
     * and its gradient with respect to every parameter (into {@link #gradients()}).
     *
     * @param targets flat [rows x maxLen] target ids (ignored where the weight is 0)
     * @param weights flat [rows x maxLen] loss weights
     */
    public double lossAndGradients(int[][] sequences, int[] targets, float[] weights) {
        Batch b = Batch.of(sequences, vocabulary.padId());
        if (targets.length != b.rows * b.length || weights.length != targets.length) {
            throw new IllegalArgumentException("targets and weights need " + b.rows * b.length + " entries");
        }
        forward(b, true);
        double loss = lossAndLogitGradient(b.rows * b.length, targets, weights);
        backward(b);
        return loss;
    }

    /** A right-padded batch: flat token ids and each row's length. */
    private record Batch(int rows, int length, int[] tokens, int[] lengths) {
        static Batch of(int[][] sequences, int padId) {
            int rows = sequences.length, maxLen = 0;
            int[] lengths = new int[rows];
            for (int b = 0; b < rows; b++) {
                lengths[b] = sequences[b].length;
                maxLen = Math.max(maxLen, lengths[b]);
            }
            int[] tok = new int[rows * maxLen];
            for (int b = 0; b < rows; b++) {
                Arrays.fill(tok, b * maxLen, (b + 1) * maxLen, padId);
                System.arraycopy(sequences[b], 0, tok, b * maxLen, lengths[b]);
            }
            return new Batch(rows, maxLen, tok, lengths);
        }
    }

    // ------------------------------------------------------------------------------------------ buffers

    /** Grows the buffers (never shrinks them) to hold {@code rows} x {@code length}, with the backward pass's when training. */
    private void ensureCapacity(int rows, int length, boolean training) {
        boolean fits = acts != null && rows <= capacityRows && length <= capacityLength && (!training || dLogits != null);
        if (fits) return;
        capacityRows = Math.max(rows, capacityRows);
        capacityLength = Math.max(length, capacityLength);
        boolean backward = training || dLogits != null;
        int n = capacityRows * capacityLength, nd = n * d, nf = n * ff;
        acts = new LayerActivations[backward ? layers : 1];
        for (int l = 0; l < acts.length; l++) {
            LayerActivations a = new LayerActivations();
            a.xhat1 = new OffHeapFloats(nd);
            a.h = new OffHeapFloats(nd);
            a.q = new OffHeapFloats(nd);
            a.k = new OffHeapFloats(nd);
            a.v = new OffHeapFloats(nd);
            a.probs = new OffHeapFloats(capacityRows * heads * capacityLength * capacityLength);
            a.ctx = new OffHeapFloats(nd);
            a.xhat2 = new OffHeapFloats(nd);
            a.h2 = new OffHeapFloats(nd);
            a.sig = new OffHeapFloats(nf);
            a.gelu = new OffHeapFloats(nf);
            a.rstd1 = new float[n];
            a.rstd2 = new float[n];
            acts[l] = a;
        }
        x = new OffHeapFloats(nd);
        tmp = new OffHeapFloats(nd);
        xhatFinal = new OffHeapFloats(nd);
        hFinal = new OffHeapFloats(nd);
        rstdFinal = new float[n];
        logits = new OffHeapFloats(n * vocab);
        if (backward) {
            dLogits = new OffHeapFloats(n * vocab);
            dx = new OffHeapFloats(nd);
            dTmp = new OffHeapFloats(nd);
            dq = new OffHeapFloats(nd);
            dk = new OffHeapFloats(nd);
            dv = new OffHeapFloats(nd);
            dCtx = new OffHeapFloats(nd);
            dFf = new OffHeapFloats(nf);
            dProbs = new OffHeapFloats(heads * capacityLength * capacityLength);
        }
    }

    // ------------------------------------------------------------------------------------------ forward

    private void forward(Batch batch, boolean training) {
        int rows = batch.rows, len = batch.length, n = rows * len;
        ensureCapacity(rows, len, training);
        for (int i = 0; i < n; i++) {
            params.get(tokenTable + batch.tokens[i] * d, r0, 0, d);
            if (learnedPositions) {
                params.get(positionTable + (i % len) * d, r1, 0, d);
                for (int j = 0; j < d; j++) r0[j] += r1[j];
            }
            x.put(i * d, r0, 0, d);
        }
        for (int l = 0; l < layers; l++) {
            LayerActivations a = acts[training ? l : 0];
            LayerParams p = layerParams[l];
            layerNorm(x, a.xhat1, a.rstd1, a.h, p.ln1Gain, p.ln1Bias, n);
            linear(a.h, p.q, d, a.q, n);
            linear(a.h, p.k, d, a.k, n);
            linear(a.h, p.v, d, a.v, n);
            addBias(a.q, p.qBias, n, d, cos != null, len);
            addBias(a.k, p.kBias, n, d, cos != null, len);
            addBias(a.v, p.vBias, n, d, false, len);
            attention(a, batch);
            linear(a.ctx, p.out, d, tmp, n);
            addResidual(x, tmp, p.outBias, n);
            layerNorm(x, a.xhat2, a.rstd2, a.h2, p.ln2Gain, p.ln2Bias, n);
            Blas.gemm(false, false, n, ff, d, 1f, a.h2, 0, d, params, p.mlpIn, ff, 0f, a.gelu, 0, ff);
            gelu(a.gelu, a.sig, p.mlpInBias, n);
            Blas.gemm(false, false, n, d, ff, 1f, a.gelu, 0, ff, params, p.mlpOut, d, 0f, tmp, 0, d);
            addResidual(x, tmp, p.mlpOutBias, n);
        }
        layerNorm(x, xhatFinal, rstdFinal, hFinal, finalGain, finalBias, n);
        Blas.gemm(false, false, n, vocab, d, 1f, hFinal, 0, d, params, headWeight, vocab, 0f, logits, 0, vocab);
        addBias(logits, headBias, n, vocab, false, len);
    }

    /** out = in W for a square [d, d] weight at {@code weight}. */
    private void linear(OffHeapFloats in, int weight, int width, OffHeapFloats out, int n) {
        Blas.gemm(false, false, n, width, d, 1f, in, 0, d, params, weight, width, 0f, out, 0, width);
    }

    /** Row-wise LayerNorm of [n, d]: keeps x-hat and 1/std for the backward pass. */
    private void layerNorm(OffHeapFloats in, OffHeapFloats xhat, float[] rstd, OffHeapFloats out, int gainAt, int biasAt, int n) {
        params.get(gainAt, gain, 0, d);
        params.get(biasAt, bias, 0, d);
        for (int i = 0; i < n; i++) {
            in.get(i * d, r0, 0, d);
            rstd[i] = TransformerKernels.layerNormRow(r0, r0, r1, 0, gain, bias, d);
            xhat.put(i * d, r0, 0, d);
            out.put(i * d, r1, 0, d);
        }
    }

    /** Adds a bias to every row; with {@code rotate}, then rotates each head's halves by the row's position. */
    private void addBias(OffHeapFloats m, int biasAt, int n, int width, boolean rotate, int len) {
        addBias(m, biasAt, n, width, rotate, len, null);
    }

    /** As above; row i sits at position {@code positions[i]} when given, else at i mod len. */
    private void addBias(OffHeapFloats m, int biasAt, int n, int width, boolean rotate, int len, int[] positions) {
        params.get(biasAt, bias, 0, width);
        int half = dh / 2;
        for (int i = 0; i < n; i++) {
            m.get(i * width, r0, 0, width);
            for (int j = 0; j < width; j++) r0[j] += bias[j];
            if (rotate) {
                // r1 = rotate_half(r0): per head, [-x2, x1]
                for (int o = 0; o < width; o += dh) {
                    for (int j = 0; j < half; j++) {
                        r1[o + j] = -r0[o + j + half];
                        r1[o + j + half] = r0[o + j];
                    }
                }
                int at = positions != null ? positions[i] : i % len;
                float[] c = cos[at], s = sin[at];
                for (int j = 0; j < width; j++) r0[j] = r0[j] * c[j] + r1[j] * s[j];
            }
            m.put(i * width, r0, 0, width);
        }
    }

    /** x += t + bias, in the order the SameDiff graph adds (x + (t + bias)). */
    private void addResidual(OffHeapFloats xs, OffHeapFloats t, int biasAt, int n) {
        params.get(biasAt, bias, 0, d);
        for (int i = 0; i < n; i++) {
            xs.get(i * d, r0, 0, d);
            t.get(i * d, r1, 0, d);
            for (int j = 0; j < d; j++) r0[j] += r1[j] + bias[j];
            xs.put(i * d, r0, 0, d);
        }
    }

    /** u (in place in {@code g}) gets its bias; sig = sigmoid(1.702 u); g = u * sig. */
    private void gelu(OffHeapFloats g, OffHeapFloats sig, int biasAt, int n) {
        params.get(biasAt, bias, 0, ff);
        for (int i = 0; i < n; i++) {
            g.get(i * ff, r0, 0, ff);
            for (int j = 0; j < ff; j++) r0[j] += bias[j];
            TransformerKernels.gelu(r0, r1, r0, ff, scratch);
            sig.put(i * ff, r1, 0, ff);
            g.put(i * ff, r0, 0, ff);
        }
    }

    /** Multi-head attention of every row over its own non-padding keys; probabilities kept in {@code a.probs}. */
    private void attention(LayerActivations a, Batch batch) {
        int len = batch.length;
        for (int b = 0; b < batch.rows; b++) {
            int keys = batch.lengths[b];
            for (int hd = 0; hd < heads; hd++) {
                int off = b * len * d + hd * dh, pOff = (b * heads + hd) * len * len;
                Blas.gemm(false, true, len, keys, dh, attentionScale, a.q, off, d, a.k, off, d, 0f, a.probs, pOff, len);
                a.probs.get(pOff, blockP, 0, len * len);
                FloatKernels.softmaxRows(blockP, len, len, keys, blockScratch);
                a.probs.put(pOff, blockP, 0, len * len);
                Blas.gemm(false, false, len, dh, keys, 1f, a.probs, pOff, len, a.v, off, d, 0f, a.ctx, off, d);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ cached inference

    /**
     * What Fast-dLLM's approximate caches keep for one sequence: every layer's attention keys
     * (rotated) and values at every position, as of the last full forward, and the latest logits
     * at every position.
     */
    static final class SequenceCache {
        final float[][] keys, values;
        final float[] logits;
        final int length;
        /** The block start the keys and values were computed for (-1: never). */
        int blockStart = -1;

        SequenceCache(int layers, int length, int d, int vocab) {
            this.length = length;
            keys = new float[layers][length * d];
            values = new float[layers][length * d];
            logits = new float[length * vocab];
        }
    }

    private int rangeCapacity;
    private OffHeapFloats rx, rh, rxhat, rq, rk, rv, rctx, rtmp, rff, rsig, rlogits, kFull, vFull, scores;
    private float[] rrstd, rowKeys;

    SequenceCache newSequenceCache(int length) {
        return new SequenceCache(layers, length, d, vocab);
    }

    /**
     * The forward pass over positions [from[b], to[b]) of each sequence only. Their queries attend
     * to every position of their sequence: fresh keys and values for the computed positions, the
     * cached ones elsewhere. Writes the computed positions' logits into the cache; with
     * {@code store} (a full pass, from = 0 and to = length), also every layer's keys and values.
     * A full pass answers what {@link #logits} answers, to float rounding.
     */
    void forwardRanges(int[][] sequences, int[] from, int[] to, SequenceCache[] caches, boolean store) {
        int rows = sequences.length;
        int[] offset = new int[rows + 1];
        for (int b = 0; b < rows; b++) {
            if (from[b] < 0 || to[b] > sequences[b].length || from[b] >= to[b]) throw new IllegalArgumentException("row " + b + ": range [" + from[b] + ", " + to[b] + ")");
            if (caches[b].length != sequences[b].length) throw new IllegalArgumentException("row " + b + ": cache for " + caches[b].length + " tokens, sequence of " + sequences[b].length);
            if (store && (from[b] != 0 || to[b] != sequences[b].length)) throw new IllegalArgumentException("row " + b + ": only a full pass refreshes the cache");
            offset[b + 1] = offset[b] + to[b] - from[b];
        }
        int n = offset[rows];
        ensureRangeCapacity(n);
        int[] pos = new int[n];
        for (int b = 0; b < rows; b++) {
            for (int i = offset[b]; i < offset[b + 1]; i++) {
                int p = from[b] + i - offset[b];
                pos[i] = p;
                params.get(tokenTable + sequences[b][p] * d, r0, 0, d);
                if (learnedPositions) {
                    params.get(positionTable + p * d, r1, 0, d);
                    for (int j = 0; j < d; j++) r0[j] += r1[j];
                }
                rx.put(i * d, r0, 0, d);
            }
        }
        for (int l = 0; l < layers; l++) {
            LayerParams p = layerParams[l];
            layerNorm(rx, rxhat, rrstd, rh, p.ln1Gain, p.ln1Bias, n);
            linear(rh, p.q, d, rq, n);
            linear(rh, p.k, d, rk, n);
            linear(rh, p.v, d, rv, n);
            addBias(rq, p.qBias, n, d, cos != null, 1, pos);
            addBias(rk, p.kBias, n, d, cos != null, 1, pos);
            addBias(rv, p.vBias, n, d, false, 1, pos);
            for (int b = 0; b < rows; b++) {
                SequenceCache c = caches[b];
                int len = c.length, w = to[b] - from[b], at = offset[b] * d;
                if (store) {
                    rk.get(at, c.keys[l], from[b] * d, w * d);
                    rv.get(at, c.values[l], from[b] * d, w * d);
                }
                // keys and values of the whole sequence: cached, with the computed positions' fresh ones over them
                System.arraycopy(c.keys[l], 0, rowKeys, 0, len * d);
                rk.get(at, rowKeys, from[b] * d, w * d);
                kFull.put(0, rowKeys, 0, len * d);
                System.arraycopy(c.values[l], 0, rowKeys, 0, len * d);
                rv.get(at, rowKeys, from[b] * d, w * d);
                vFull.put(0, rowKeys, 0, len * d);
                for (int hd = 0; hd < heads; hd++) {
                    Blas.gemm(false, true, w, len, dh, attentionScale, rq, at + hd * dh, d, kFull, hd * dh, d, 0f, scores, 0, len);
                    scores.get(0, blockP, 0, w * len);
                    FloatKernels.softmaxRows(blockP, w, len, len, blockScratch);
                    scores.put(0, blockP, 0, w * len);
                    Blas.gemm(false, false, w, dh, len, 1f, scores, 0, len, vFull, hd * dh, d, 0f, rctx, at + hd * dh, d);
                }
            }
            linear(rctx, p.out, d, rtmp, n);
            addResidual(rx, rtmp, p.outBias, n);
            layerNorm(rx, rxhat, rrstd, rh, p.ln2Gain, p.ln2Bias, n);
            Blas.gemm(false, false, n, ff, d, 1f, rh, 0, d, params, p.mlpIn, ff, 0f, rff, 0, ff);
            gelu(rff, rsig, p.mlpInBias, n);
            Blas.gemm(false, false, n, d, ff, 1f, rff, 0, ff, params, p.mlpOut, d, 0f, rtmp, 0, d);
            addResidual(rx, rtmp, p.mlpOutBias, n);
        }
        layerNorm(rx, rxhat, rrstd, rh, finalGain, finalBias, n);
        Blas.gemm(false, false, n, vocab, d, 1f, rh, 0, d, params, headWeight, vocab, 0f, rlogits, 0, vocab);
        addBias(rlogits, headBias, n, vocab, false, 1);
        for (int b = 0; b < rows; b++) rlogits.get(offset[b] * vocab, caches[b].logits, from[b] * vocab, (to[b] - from[b]) * vocab);
    }

    private void ensureRangeCapacity(int n) {
        if (rx != null && n <= rangeCapacity) return;
        rangeCapacity = Math.max(n, rangeCapacity);
        int nd = rangeCapacity * d, nf = rangeCapacity * ff, t = config.maxLength();
        rx = new OffHeapFloats(nd);
        rh = new OffHeapFloats(nd);
        rxhat = new OffHeapFloats(nd);
        rq = new OffHeapFloats(nd);
        rk = new OffHeapFloats(nd);
        rv = new OffHeapFloats(nd);
        rctx = new OffHeapFloats(nd);
        rtmp = new OffHeapFloats(nd);
        rff = new OffHeapFloats(nf);
        rsig = new OffHeapFloats(nf);
        rlogits = new OffHeapFloats(rangeCapacity * vocab);
        rrstd = new float[rangeCapacity];
        if (kFull == null) {
            kFull = new OffHeapFloats(t * d);
            vFull = new OffHeapFloats(t * d);
            scores = new OffHeapFloats(t * t);
            rowKeys = new float[t * d];
        }
    }

    // ------------------------------------------------------------------------------------------ loss

    /** Weighted cross-entropy over positions; writes d loss / d logits. */
    private double lossAndLogitGradient(int n, int[] targets, float[] weights) {
        double loss = 0;
        Arrays.fill(r2, 0, vocab, 0f);
        for (int i = 0; i < n; i++) {
            float w = weights[i];
            if (w == 0f) {
                dLogits.put(i * vocab, r2, 0, vocab);
                continue;
            }
            logits.get(i * vocab, r0, 0, vocab);
            float max = FloatKernels.max(r0, vocab);
            for (int j = 0; j < vocab; j++) r1[j] = r0[j] - max;
            FloatKernels.exp(r1, r1, vocab, scratch);
            float sum = FloatKernels.sum(r1, vocab);
            int target = targets[i];
            double logSum = max + Math.log(sum);
            loss += w * (logSum - r0[target]);
            for (int j = 0; j < vocab; j++) r1[j] = w * (r1[j] / sum);
            r1[target] -= w;
            dLogits.put(i * vocab, r1, 0, vocab);
        }
        return loss;
    }

    // ------------------------------------------------------------------------------------------ backward

    private void backward(Batch batch) {
        int len = batch.length, n = batch.rows * len;
        Blas.gemm(true, false, d, vocab, n, 1f, hFinal, 0, d, dLogits, 0, vocab, 0f, grads, headWeight, vocab);
        columnSums(dLogits, n, vocab, headBias);
        Blas.gemm(false, true, n, d, vocab, 1f, dLogits, 0, vocab, params, headWeight, vocab, 0f, dTmp, 0, d);
        layerNormBackward(dTmp, xhatFinal, rstdFinal, finalGain, finalBias, dx, false, n);
        for (int l = layers - 1; l >= 0; l--) {
            LayerActivations a = acts[l];
            LayerParams p = layerParams[l];
            // MLP: x += gelu(h2 Win + bin) Wout + bout
            Blas.gemm(true, false, ff, d, n, 1f, a.gelu, 0, ff, dx, 0, d, 0f, grads, p.mlpOut, d);
            columnSums(dx, n, d, p.mlpOutBias);
            Blas.gemm(false, true, n, ff, d, 1f, dx, 0, d, params, p.mlpOut, d, 0f, dFf, 0, ff);
            geluBackward(a, n);
            Blas.gemm(true, false, d, ff, n, 1f, a.h2, 0, d, dFf, 0, ff, 0f, grads, p.mlpIn, ff);
            columnSums(dFf, n, ff, p.mlpInBias);
            Blas.gemm(false, true, n, d, ff, 1f, dFf, 0, ff, params, p.mlpIn, ff, 0f, dTmp, 0, d);
            layerNormBackward(dTmp, a.xhat2, a.rstd2, p.ln2Gain, p.ln2Bias, dx, true, n);
            // attention: x += ctx Wo + bo
            Blas.gemm(true, false, d, d, n, 1f, a.ctx, 0, d, dx, 0, d, 0f, grads, p.out, d);
            columnSums(dx, n, d, p.outBias);
            Blas.gemm(false, true, n, d, d, 1f, dx, 0, d, params, p.out, d, 0f, dCtx, 0, d);
            attentionBackward(a, batch);
            if (cos != null) {
                unrotate(dq, n, len);
                unrotate(dk, n, len);
            }
            columnSums(dq, n, d, p.qBias);
            columnSums(dk, n, d, p.kBias);
            columnSums(dv, n, d, p.vBias);
            Blas.gemm(true, false, d, d, n, 1f, a.h, 0, d, dq, 0, d, 0f, grads, p.q, d);
            Blas.gemm(true, false, d, d, n, 1f, a.h, 0, d, dk, 0, d, 0f, grads, p.k, d);
            Blas.gemm(true, false, d, d, n, 1f, a.h, 0, d, dv, 0, d, 0f, grads, p.v, d);
            Blas.gemm(false, true, n, d, d, 1f, dq, 0, d, params, p.q, d, 0f, dTmp, 0, d);
            Blas.gemm(false, true, n, d, d, 1f, dk, 0, d, params, p.k, d, 1f, dTmp, 0, d);
            Blas.gemm(false, true, n, d, d, 1f, dv, 0, d, params, p.v, d, 1f, dTmp, 0, d);
            layerNormBackward(dTmp, a.xhat1, a.rstd1, p.ln1Gain, p.ln1Bias, dx, true, n);
        }
        // embeddings: scatter-add each position's gradient into its token's and position's rows
        ParameterSlot tok = slots.get("embed.tokens");
        grads.fill(tok.offset(), tok.size(), 0f);
        if (learnedPositions) grads.fill(positionTable, slots.get("embed.positions").size(), 0f);
        for (int i = 0; i < n; i++) {
            dx.get(i * d, r0, 0, d);
            int row = tokenTable + batch.tokens[i] * d;
            grads.get(row, r1, 0, d);
            for (int j = 0; j < d; j++) r1[j] += r0[j];
            grads.put(row, r1, 0, d);
            if (learnedPositions) {
                row = positionTable + (i % len) * d;
                grads.get(row, r1, 0, d);
                for (int j = 0; j < d; j++) r1[j] += r0[j];
                grads.put(row, r1, 0, d);
            }
        }
    }

    /** grads[at..at+width) = column sums of m [n, width]. */
    private void columnSums(OffHeapFloats m, int n, int width, int at) {
        Arrays.fill(acc0, 0, width, 0f);
        for (int i = 0; i < n; i++) {
            m.get(i * width, r0, 0, width);
            for (int j = 0; j < width; j++) acc0[j] += r0[j];
        }
        grads.put(at, acc0, 0, width);
    }

    /**
     * Given dy = d loss / d LayerNorm output, writes the gain and bias gradients and sets (or, with
     * {@code accumulate}, adds to) {@code out} the gradient with respect to the LayerNorm input.
     */
    private void layerNormBackward(OffHeapFloats dy, OffHeapFloats xhat, float[] rstd, int gainAt, int biasAt, OffHeapFloats out,
                                   boolean accumulate, int n) {
        params.get(gainAt, gain, 0, d);
        Arrays.fill(acc0, 0, d, 0f);
        Arrays.fill(acc1, 0, d, 0f);
        for (int i = 0; i < n; i++) {
            dy.get(i * d, r0, 0, d);
            xhat.get(i * d, r1, 0, d);
            if (accumulate) out.get(i * d, r3, 0, d);
            TransformerKernels.layerNormBackwardRow(r0, r1, rstd[i], r3, 0, gain, acc0, acc1, r2, d, accumulate);
            out.put(i * d, r3, 0, d);
        }
        grads.put(gainAt, acc0, 0, d);
        grads.put(biasAt, acc1, 0, d);
    }

    /** dFf holds d loss / d gelu output; turns it into d loss / d u, with gelu'(u) = s + 1.702 g (1 - s). */
    private void geluBackward(LayerActivations a, int n) {
        for (int i = 0; i < n; i++) {
            dFf.get(i * ff, r0, 0, ff);
            a.sig.get(i * ff, r1, 0, ff);
            a.gelu.get(i * ff, r2, 0, ff);
            TransformerKernels.geluBackward(r0, r1, r2, ff);
            dFf.put(i * ff, r0, 0, ff);
        }
    }

    /** From dCtx: the gradients of the (rotated) queries, keys and of the values into dq, dk, dv. */
    private void attentionBackward(LayerActivations a, Batch batch) {
        int len = batch.length;
        for (int b = 0; b < batch.rows; b++) {
            int keys = batch.lengths[b];
            for (int hd = 0; hd < heads; hd++) {
                int off = b * len * d + hd * dh, pOff = (b * heads + hd) * len * len, sOff = hd * len * len;
                // dP = dCtx V^T, dV = P^T dCtx (keys only: padding keys got no weight)
                Blas.gemm(false, true, len, keys, dh, 1f, dCtx, off, d, a.v, off, d, 0f, dProbs, sOff, len);
                Blas.gemm(true, false, keys, dh, len, 1f, a.probs, pOff, len, dCtx, off, d, 0f, dv, off, d);
                // softmax backward: dS = P * (dP - sum_j P dP)
                a.probs.get(pOff, blockP, 0, len * len);
                dProbs.get(sOff, blockG, 0, len * len);
                TransformerKernels.softmaxBackwardRows(blockP, blockG, len, len, keys);
                dProbs.put(sOff, blockG, 0, len * len);
                // scores = scale Q K^T: dQ = scale dS K, dK = scale dS^T Q
                Blas.gemm(false, false, len, dh, keys, attentionScale, dProbs, sOff, len, a.k, off, d, 0f, dq, off, d);
                Blas.gemm(true, false, keys, dh, len, attentionScale, dProbs, sOff, len, a.q, off, d, 0f, dk, off, d);
            }
            if (keys < len) {
                // padding keys and their values had no effect: zero gradient
                dk.fill((b * len + keys) * d, (len - keys) * d, 0f);
                dv.fill((b * len + keys) * d, (len - keys) * d, 0f);
            }
        }
    }

    /** Backward of the rotary rotation y = x cos + rotate_half(x) sin: dx = dy cos + rotate_half^T(dy sin). */
    private void unrotate(OffHeapFloats m, int n, int len) {
        int half = dh / 2;
        for (int i = 0; i < n; i++) {
            m.get(i * d, r0, 0, d);
            float[] c = cos[i % len], s = sin[i % len];
            for (int j = 0; j < d; j++) {
                r1[j] = r0[j] * s[j];
                r0[j] = r0[j] * c[j];
            }
            // rotate_half^T(y) = [y2, -y1] per head
            for (int o = 0; o < d; o += dh) {
                for (int j = 0; j < half; j++) {
                    r0[o + j] += r1[o + j + half];
                    r0[o + j + half] -= r1[o + j];
                }
            }
            m.put(i * d, r0, 0, d);
        }
    }
}
