package dev.unmask.rollout;

import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.nn.Blas;
import dev.unmask.nn.GraphWeights;
import dev.unmask.kernels.FloatKernels;
import dev.unmask.kernels.TransformerKernels;
import dev.unmask.nn.OffHeapFloats;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The policy network's forward pass and the clipped objective's gradient written out by hand
 * ({@code policyUpdate: fast}): the same computation as {@link PolicyNet}'s graph plus
 * {@link PolicyLoss}, in float with OpenBLAS for the products, without SameDiff's per-op
 * allocation, which took 71-75% of a GRPO run's wall time (results/frontier/README.md, "Cost").
 * Agrees with the graph's gradients to float rounding ({@code FastPolicyGradientsTest}), not bit
 * for bit, so a run keeps the update it started with.
 *
 * <p>Layout: N = rows * width positions, activations row-major [N, d]. One caller at a time: a
 * call spreads its own work over the update's threads ({@link UpdateWorkers}); buffers grow to
 * the largest minibatch and are reused. {@code fast} runs each segment of steps whole on one
 * thread (forward, loss, backward to every position's gradient), then the parameters' sums over
 * all positions side by side ({@link #compute}); its bits are those of the one-method reference in
 * the tests for any thread count.
 */
final class FastPolicyGradients {

    /** One minibatch, laid out as {@link PolicyTrainer} builds the graph's placeholders; returns, refLogProb and stepWeights may be null. */
    record Minibatch(int rows, int width, float[] features, float[] keyBias, float[] actions, float[] eligible,
                     float[] oldLogProb, float[] advantages, float[] returns, float[] refLogProb, float[] stepWeights) {
    }

    /** The loss graph's outputs ({@link PolicyLoss}) and the gradient of every parameter asked for, shaped as the graph's variables. */
    record Result(double loss, double clipFraction, double approxKl, double entropy, double klToReference, Map<String, INDArray> gradients) {
    }

    private final int f, d, heads, dh, ff;
    private final boolean ppo;
    /** policyUpdate fast-eligible: the query side only at the positions whose outputs enter the loss ({@link #computeEligible}). */
    private final boolean eligibleOnly;
    private final double clipEps, entropyCoef, valueCoef, klCoef;
    private final Map<String, long[]> shapes = new TreeMap<>();

    // parameters, off-heap for the products and on-heap for the element-wise work
    private final Map<String, OffHeapFloats> weightsOff = new HashMap<>();
    private final Map<String, float[]> weights = new HashMap<>();
    private final Map<String, OffHeapFloats> gradsOff = new HashMap<>();

    // activations and their gradients
    private int capacity = -1, probCapacity = -1;
    private OffHeapFloats feats, x0, h1, q, k, v, ctx, h2, gel, tmp, dTmp, dTmp2, dX, dH, dq, dk, dv, dctx, dGel, probs, dProbs;
    private float[] hX, hX0, hX1, hH, bZ, bYF, bX2, bX1, bU, bH2, bLn, bH1, bProj, hXhat1, hXhat2, hXhatF, rstd1, rstd2, rstdF, hU, hSig, hGel, hY, hZ, pe, geluScratch;
    /** The q, k and v projections' backward products side by side: one output buffer each, off-heap and on the heap. */
    private OffHeapFloats[] dProj;
    private float[][] dProjHeap;
    /** The gradients at the q, k and v projections' outputs on the heap, for their bias sums. */
    private float[][] dqkvHeap;
    /** Rows at which this machine's OpenBLAS splits a product unchanged ({@link Blas#rowBlock}); -1 until asked. */
    private int rowBlock = -1, rowBlockWidth;
    /** Positions whose outputs enter the loss: eligible ones, and in PPO every key the value head pools. */
    private boolean[] needed;
    /**
     * The backward pass's share of those: needed positions of steps whose loss has a gradient
     * (backward), and every position of such a step (inGradientStep). A step whose loss has none
     * (advantage 0, or its ratio clipped) gets exactly 0 all through the backward pass.
     */
    private boolean[] backward, inGradientStep;
    /** Each update thread's scratch for the per-row work. */
    private RowScratch[] perWorker;
    private final UpdateWorkers workers;
    private final PolicyConfig policy;
    private final TrainConfig config;
    /**
     * fast-eligible splits a minibatch into groups of steps of about {@value #GROUP_POSITIONS}
     * positions (a fixed size, so the rounding does not depend on the thread count), computes each
     * group whole on one thread with an engine of its own (its activations stay in cache), and sums
     * the groups' terms and gradients in group order.
     */
    private final boolean grouped;
    static final int GROUP_POSITIONS = 4096;
    private FastPolicyGradients[] groupEngines;
    /** A group engine's row weight: 1 / the whole minibatch's steps (0: its own minibatch's). */
    private int weightRows;
    /** A group engine's last objective terms (surrogate, entropy, kl, value, clipped, approxKl) and raw gradients. */
    private double[] lastTerms;
    private Map<String, float[]> lastGradients;
    // fast-eligible only: the needed positions in order (qIdx), each position's index among them or -1
    // (posToM), each row's first (rowStart), LayerNorm 1's output at them, and full-size scratch
    private int[] qIdx, posToM, rowStart;
    private OffHeapFloats h1c;
    private float[] hZc, bX0, bLin, zeros;

    /**
     * Segments per update thread: many small ones, handed to whichever thread is free, keep the
     * threads busy to the end although steps differ in work (a step without a gradient skips its
     * backward pass): busy 97% of the segments' wall time against 91% with two per thread (ducci f16,
     * 12 iterations).
     */
    private static final int SEGMENTS_PER_THREAD = 12;

    /** Steps of a minibatch per chunk of per-row work handed to a thread; positions per chunk of row-wise passes. */
    private static final int ROW_CHUNK = 4, POSITION_CHUNK = 2048;

    /** One thread's scratch for the per-row work: a row's attention matrices, its needed queries, their softmax's exponents. */
    private static final class RowScratch {
        final float[] p, dp, compact, exp, row;
        final int[] idx, runs, identity;

        RowScratch(int width, int d) {
            p = new float[Math.max(width * width, d)];
            dp = new float[Math.max(width * width, d)];
            compact = new float[width * width];
            exp = new float[Math.max(width * width, 1)];
            row = new float[d];
            idx = new int[width];
            runs = new int[2 * width + 2];
            identity = new int[width];
            for (int i = 0; i < width; i++) identity[i] = i;
        }
    }

    FastPolicyGradients(PolicyConfig policy, TrainConfig c) {
        this(policy, c, UpdateWorkers.configuredThreads());
    }

    /** @param threads the update's threads: the result is bit for bit the same for any count ({@link UpdateWorkers}) */
    FastPolicyGradients(PolicyConfig policy, TrainConfig c, int threads) {
        this(policy, c, UpdateWorkers.of(threads), c.policyUpdate().equals(TrainConfig.FAST_ELIGIBLE_UPDATE));
    }

    /** One group's engine of a fast-eligible update: the parent's settings, one thread, buffers of its own. */
    private FastPolicyGradients(FastPolicyGradients parent) {
        this(parent.policy, parent.config, UpdateWorkers.of(1), false);
    }

    private FastPolicyGradients(PolicyConfig policy, TrainConfig c, UpdateWorkers workers, boolean grouped) {
        this.policy = policy;
        this.config = c;
        this.grouped = grouped;
        this.workers = workers;
        this.f = policy.parsedFeatures().size();
        this.d = policy.dModel();
        this.heads = policy.heads();
        this.dh = d / heads;
        this.ff = policy.ffDim();
        this.ppo = c.algorithm().equals("ppo");
        this.eligibleOnly = c.policyUpdate().equals(TrainConfig.FAST_ELIGIBLE_UPDATE);
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
    Result compute(Map<String, INDArray> graphWeights, Minibatch mb, Collection<String> wanted) {
        if (eligibleOnly) return grouped ? computeGrouped(graphWeights, mb, wanted) : computeEligible(graphWeights, mb, wanted);
        loadWeights(graphWeights);
        int rows = mb.rows(), w = mb.width(), n = rows * w;
        ensureCapacity(n, rows * heads * w * w, w);
        feats.put(0, mb.features(), 0, n * f);
        markNeeded(mb, n);
        Steps s = new Steps(mb, rows, w);
        // every position's forward and backward, one segment of steps per thread at a time; no sum crosses a segment
        int[] bounds = segmentBounds(rows, w);
        workers.forRanges(bounds.length - 1, 1, (wk, from, to) -> {
            for (int g = from; g < to; g++) segment(wk, s, bounds[g], bounds[g + 1]);
        });
        // the parameters' gradients: sums over every position in order, side by side; the element-wise
        // sums leave out the row blocks of steps without a gradient, whose terms are all exactly 0 (a
        // product's sum keeps every row: OpenBLAS rounds a product with fewer rows differently)
        int[] stepRun = new int[2 * (n / (rowBlock == 0 ? n : rowBlock) + 1)];
        int stepRuns = blockRuns(inGradientStep, 0, n, stepRun);
        Map<String, float[]> grads = new ConcurrentHashMap<>();
        List<UpdateWorkers.Task> sums = new ArrayList<>();
        sums.add(wk -> weightGradient(gel, ff, dTmp, d, n, "layer0.mlp.out.weight"));
        sums.add(wk -> weightGradient(h2, d, dGel, ff, n, "layer0.mlp.in.weight"));
        sums.add(wk -> weightGradient(ctx, d, dTmp2, d, n, "layer0.attn.out.weight"));
        OffHeapFloats[] g = {dq, dk, dv};
        String[] lin = {"layer0.attn.q", "layer0.attn.k", "layer0.attn.v"};
        for (int p = 0; p < 3; p++) {
            int i = p;
            sums.add(wk -> weightGradient(h1, d, g[i], d, n, lin[i] + ".weight"));
            sums.add(wk -> grads.put(lin[i] + ".bias", columnSums(dqkvHeap[i], stepRun, stepRuns, d)));
        }
        sums.add(wk -> weightGradient(feats, f, dX, d, n, "embed.weight"));
        sums.add(wk -> grads.put("layer0.mlp.out.bias", columnSums(bX2, stepRun, stepRuns, d)));
        sums.add(wk -> grads.put("layer0.mlp.in.bias", columnSums(bU, stepRun, stepRuns, ff)));
        sums.add(wk -> grads.put("layer0.attn.out.bias", columnSums(bX1, stepRun, stepRuns, d)));
        sums.add(wk -> grads.put("embed.bias", columnSums(bX0, stepRun, stepRuns, d)));
        sums.add(wk -> layerNormParameters(bYF, hXhatF, "final_ln", stepRun, stepRuns, grads));
        sums.add(wk -> layerNormParameters(bH2, hXhat2, "layer0.ln2", stepRun, stepRuns, grads));
        sums.add(wk -> layerNormParameters(bH1, hXhat1, "layer0.ln1", stepRun, stepRuns, grads));
        sums.add(wk -> headParameters(bZ, hY, n, grads));
        workers.all(sums.toArray(new UpdateWorkers.Task[0]));
        float[] gWv = new float[d], gBv = new float[1];
        if (ppo) valueParameters(s, gWv, gBv);
        grads.put("value_head.weight", gWv);
        grads.put("value_head.bias", gBv);
        double[] terms = s.sums();
        return new Result(objective(terms), terms[4] / rows, terms[5] / rows, terms[1], terms[2], gradientsOut(grads, wanted));
    }

    /** A minibatch's per-step state while its segments run: the rows' weights, and what each row's loss and value head leave for the sums. */
    private final class Steps {
        final Minibatch mb;
        final int rows, w;
        final double[] avgWeight, dLogp, value, pooledCount;
        final float[][] pooled;
        final float[] dValue;
        /** Each row's surrogate, entropy, kl, value, clipped and approxKl terms, summed in row order at the end. */
        final double[][] rowTerms;

        Steps(Minibatch mb, int rows, int w) {
            this.mb = mb;
            this.rows = rows;
            this.w = w;
            avgWeight = new double[rows];
            for (int r = 0; r < rows; r++) avgWeight[r] = mb.stepWeights() == null ? 1.0 / rows : mb.stepWeights()[r];
            dLogp = new double[rows];
            rowTerms = new double[rows][];
            value = ppo ? new double[rows] : null;
            pooledCount = ppo ? new double[rows] : null;
            pooled = ppo ? new float[rows][d] : null;
            dValue = ppo ? new float[rows] : null;
        }

        double[] sums() {
            double[] sum = new double[6];
            for (double[] t : rowTerms) for (int i = 0; i < sum.length; i++) sum[i] += t[i];
            return sum;
        }
    }

    /**
     * Segment boundaries in steps: about {@value #SEGMENTS_PER_THREAD} segments per thread, each starting at a multiple of
     * the rows at which this machine's OpenBLAS computes a product's rows exactly as in the whole
     * product ({@link Blas#rowBlock}); one segment where it has none.
     */
    private int[] segmentBounds(int rows, int w) {
        int block = rowBlock(w);
        int parts = workers.threads() == 1 || block == 0 ? 1 : SEGMENTS_PER_THREAD * workers.threads();
        int unit = block == 0 ? rows : block / gcd(block, w); // steps per aligned unit
        int units = (rows + unit - 1) / unit;
        parts = Math.max(1, Math.min(parts, units));
        int[] bounds = new int[parts + 1];
        for (int p = 1; p < parts; p++) bounds[p] = (int) ((long) units * p / parts) * unit;
        bounds[parts] = rows;
        return bounds;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** {@link Blas#rowBlock} for this policy's row-wise products and its attention's at width w. */
    private int rowBlock(int w) {
        if (rowBlock < 0 || rowBlockWidth != w) {
            rowBlock = Blas.rowBlock(List.of(new int[]{f, d, 0}, new int[]{d, d, 0}, new int[]{d, ff, 0}, new int[]{ff, d, 0},
                    new int[]{d, d, 1}, new int[]{d, ff, 1}, new int[]{ff, d, 1}, new int[]{dh, w, 1}, new int[]{w, dh, 0}));
            rowBlockWidth = w;
        }
        return rowBlock;
    }

    /**
     * Steps [r0, r1): the forward pass, the loss's per-row terms and the backward pass to every
     * position's gradient, on this thread. Each product is computed for the segment's rows alone,
     * which start at an aligned row ({@link #rowBlock}), so its values are the whole product's. The
     * query side (after the attention) runs only over the runs of aligned row blocks that hold a
     * position in the loss: the other positions' outputs reach no loss, and their gradients, exactly
     * 0 in the whole computation, are written as 0, which adds nothing to any sum. A step whose
     * gradient at the head is 0 everywhere (its loss has none: advantage 0, or a clipped ratio) runs
     * its forward pass only, for its loss terms; every gradient below is exactly 0 and written as 0.
     */
    private void segment(int wk, Steps s, int r0, int r1) {
        int w = s.w, p0 = r0 * w, p1 = r1 * w, len = p1 - p0, o = p0 * d;
        Minibatch mb = s.mb;
        // ---------------------------------------------------------------------------------- forward
        Blas.gemm(false, false, len, d, f, 1f, feats, p0 * f, f, weightsOff.get("embed.weight"), 0, d, 0f, x0, o, d);
        x0.get(o, hX, o, len * d);
        addEmbeddingBias(hX, weights.get("embed.bias"), pe, p0, p1, w, d);
        System.arraycopy(hX, o, hX0, o, len * d); // the residual stream before the attention block
        TransformerKernels.layerNormRowsSequential(hX, hXhat1, hH, rstd1, p0, p1, weights.get("layer0.ln1.gain"), weights.get("layer0.ln1.bias"), d);
        h1.put(o, hH, o, len * d);
        linearRows(h1, "layer0.attn.q", q, p0, p1, dProjHeap[0]);
        linearRows(h1, "layer0.attn.k", k, p0, p1, dProjHeap[1]);
        linearRows(h1, "layer0.attn.v", v, p0, p1, dProjHeap[2]);
        float scale = (float) (1.0 / Math.sqrt(dh));
        for (int r = r0; r < r1; r++) attentionForward(perWorker[wk], r, w, scale, mb.keyBias());
        int[] run = new int[2 * (len / (rowBlock == 0 ? len : rowBlock) + 1)];
        int runs = blockRuns(needed, p0, p1, run);
        float[] wh = weights.get("head.weight");
        float bh = weights.get("head.bias")[0];
        for (int u = 0; u < runs; u++) queryForward(p0 + run[2 * u], p0 + run[2 * u + 1], wh, bh);
        for (int r = r0; r < r1; r++) {
            if (ppo) valueHeadRow(mb, r, w, s.value, s.pooledCount, s.pooled);
            s.rowTerms[r] = rowLoss(mb, r, w, s.value, s.avgWeight, s.dLogp);
        }
        // ---------------------------------------------------------------------------------- backward
        float[] dz = bZ, dy = bYF;
        Arrays.fill(dz, p0, p1, 0f);
        for (int r = r0; r < r1; r++) logitGradientRow(mb, r, w, s.dLogp, s.avgWeight, dz);
        for (int i = p0; i < p1; i++) for (int c = 0; c < d; c++) dy[i * d + c] = dz[i] * wh[c];
        if (ppo) for (int r = r0; r < r1; r++) valueBackwardRow(mb, r, w, s, dy);
        // a step whose dy is 0 everywhere (no gradient from its loss) has 0 all through the backward
        // pass: it joins no run below, and its gradients are written as 0
        for (int r = r0; r < r1; r++) {
            boolean any = false;
            for (int i = r * w * d, end = (r + 1) * w * d; i < end && !any; i++) any = dy[i] != 0f;
            Arrays.fill(inGradientStep, r * w, (r + 1) * w, any);
            for (int i = r * w; i < (r + 1) * w; i++) backward[i] = any && needed[i];
        }
        runs = blockRuns(backward, p0, p1, run);
        // outside the runs every gradient of the query side is 0
        for (float[] x : new float[][]{bX2, bH2, bX1}) zeroOutsideRuns(x, p0, len, run, runs, d);
        zeroOutsideRuns(bU, p0, len, run, runs, ff);
        for (int u = 0; u < runs; u++) queryBackward(p0 + run[2 * u], p0 + run[2 * u + 1]);
        dTmp.put(o, bX2, o, len * d);
        dGel.put(p0 * ff, bU, p0 * ff, len * ff);
        dTmp2.put(o, bX1, o, len * d);
        zeroOutsideRuns(dctx, p0, len, run, runs);
        for (int r = r0; r < r1; r++) {
            if (inGradientStep[r * w]) {
                attentionBackward(perWorker[wk], r, w, scale);
            } else {
                for (OffHeapFloats x : new OffHeapFloats[]{dq, dk, dv}) zero(x, r * w * d, w * d);
            }
        }
        int[] stepRun = new int[run.length];
        int stepRuns = blockRuns(inGradientStep, p0, p1, stepRun);
        OffHeapFloats[] g = {dq, dk, dv};
        String[] lin = {"layer0.attn.q", "layer0.attn.k", "layer0.attn.v"};
        for (int i = 0; i < 3; i++) {
            g[i].get(o, dqkvHeap[i], o, len * d);
            // dQ is 0 outside the query runs, dK and dV outside the steps with a gradient
            int[] at = i == 0 ? run : stepRun;
            int count = i == 0 ? runs : stepRuns;
            zeroOutsideRuns(dProjHeap[i], p0, len, at, count, d);
            for (int u = 0; u < count; u++) projectBack(g[i], lin[i], p0 + at[2 * u], p0 + at[2 * u + 1], i);
        }
        float[] dh1 = bH1, dLn = bLn, dX0 = bX0;
        sumOfThree(dProjHeap[0], dProjHeap[1], dProjHeap[2], dh1, o, o + len * d);
        TransformerKernels.layerNormBackwardRowsSequential(dh1, hXhat1, rstd1, dLn, p0, p1, weights.get("layer0.ln1.gain"), d);
        sum(bX1, dLn, dX0, o, o + len * d);
        dX.put(o, dX0, o, len * d);
    }

    /** Positions [a, b) after the attention: output projection, residual, LayerNorm 2, the MLP, the final LayerNorm, the head's logits. */
    private void queryForward(int a, int b, float[] wh, float bh) {
        int o = a * d, len = b - a;
        linearRowsToHeap(ctx, "layer0.attn.out", tmp, a, b, hH);
        sum(hX0, hH, hX, o, o + len * d);
        System.arraycopy(hX, o, hX1, o, len * d); // and before the MLP
        TransformerKernels.layerNormRowsSequential(hX, hXhat2, hH, rstd2, a, b, weights.get("layer0.ln2.gain"), weights.get("layer0.ln2.bias"), d);
        h2.put(o, hH, o, len * d);
        Blas.gemm(false, false, len, ff, d, 1f, h2, o, d, weightsOff.get("layer0.mlp.in.weight"), 0, ff, 0f, gel, a * ff, ff);
        gel.get(a * ff, hU, a * ff, len * ff);
        addRowBias(hU, weights.get("layer0.mlp.in.bias"), a, b, ff);
        TransformerKernels.gelu(hU, hSig, hGel, a * ff, b * ff, geluScratch);
        gel.put(a * ff, hGel, a * ff, len * ff);
        Blas.gemm(false, false, len, d, ff, 1f, gel, a * ff, ff, weightsOff.get("layer0.mlp.out.weight"), 0, d, 0f, tmp, o, d);
        tmp.get(o, hH, o, len * d);
        residualWithBias(hX1, hH, weights.get("layer0.mlp.out.bias"), hX, a, b, d);
        TransformerKernels.layerNormRowsSequential(hX, hXhatF, hY, rstdF, a, b, weights.get("final_ln.gain"), weights.get("final_ln.bias"), d);
        for (int i = a; i < b; i++) hZ[i] = dotRow(hY, i * d, wh) + bh;
    }

    /** Positions [a, b) backward from the head's dy to the attention's output (dctx): final LayerNorm, MLP, LayerNorm 2, the residual, the output projection. */
    private void queryBackward(int a, int b) {
        int o = a * d, len = b - a;
        float[] dX2 = bX2, dX1 = bX1, dLn = bLn, du = bU, dh2 = bH2;
        TransformerKernels.layerNormBackwardRowsSequential(bYF, hXhatF, rstdF, dX2, a, b, weights.get("final_ln.gain"), d);
        dTmp.put(o, dX2, o, len * d);
        Blas.gemm(false, true, len, ff, d, 1f, dTmp, o, d, weightsOff.get("layer0.mlp.out.weight"), 0, d, 0f, dGel, a * ff, ff);
        dGel.get(a * ff, du, a * ff, len * ff);
        TransformerKernels.geluBackward(du, hSig, hGel, a * ff, b * ff);
        dGel.put(a * ff, du, a * ff, len * ff);
        Blas.gemm(false, true, len, d, ff, 1f, dGel, a * ff, ff, weightsOff.get("layer0.mlp.in.weight"), 0, ff, 0f, dH, o, d);
        dH.get(o, dh2, o, len * d);
        TransformerKernels.layerNormBackwardRowsSequential(dh2, hXhat2, rstd2, dLn, a, b, weights.get("layer0.ln2.gain"), d);
        sum(dX2, dLn, dX1, o, o + len * d); // the residual: dX1 = dX2 + LN2'(dh2)
        dTmp2.put(o, dX1, o, len * d);
        Blas.gemm(false, true, len, d, d, 1f, dTmp2, o, d, weightsOff.get("layer0.attn.out.weight"), 0, d, 0f, dctx, o, d);
    }

    /** dProj[i] (and its heap copy) = g W^T over positions [a, b) for the projection {@code name}. */
    private void projectBack(OffHeapFloats g, String name, int a, int b, int i) {
        int o = a * d, len = b - a;
        Blas.gemm(false, true, len, d, d, 1f, g, o, d, weightsOff.get(name + ".weight"), 0, d, 0f, dProj[i], o, d);
        dProj[i].get(o, dProjHeap[i], o, len * d);
    }

    /**
     * The runs of whole row blocks ({@link #rowBlock}, counted from {@code from}, which is aligned;
     * the whole range where OpenBLAS has no row block) in positions [from, to) that hold a position
     * in the loss, as [start, end) pairs relative to {@code from} in run; returns how many. A product
     * over a run's rows gives them the bits of the product over all, so the other blocks are skipped.
     */
    private int blockRuns(boolean[] mark, int from, int to, int[] run) {
        int length = to - from, block = rowBlock == 0 ? length : rowBlock, runs = 0;
        for (int a = 0; a < length; a += block) {
            int b = Math.min(length, a + block);
            boolean any = false;
            for (int i = from + a; i < from + b && !any; i++) any = mark[i];
            if (!any) continue;
            if (runs > 0 && run[2 * runs - 1] == a) {
                run[2 * runs - 1] = b;
            } else {
                run[2 * runs] = a;
                run[2 * runs + 1] = b;
                runs++;
            }
        }
        return runs;
    }

    /** Rows [from, from + length) of x (cols each) outside the runs (relative to from) become 0. */
    private static void zeroOutsideRuns(float[] x, int from, int length, int[] run, int runs, int cols) {
        int at = 0;
        for (int u = 0; u <= runs; u++) {
            int stop = u < runs ? run[2 * u] : length;
            if (stop > at) Arrays.fill(x, (from + at) * cols, (from + stop) * cols, 0f);
            if (u < runs) at = run[2 * u + 1];
        }
    }

    /** The same for an off-heap x of d columns. */
    private void zeroOutsideRuns(OffHeapFloats x, int from, int length, int[] run, int runs) {
        zeroOutsideRuns(x, from * d, length, run, runs, d);
    }

    /** Rows [0, length) of the off-heap x from offset off (cols each) outside the runs become 0. */
    private void zeroOutsideRuns(OffHeapFloats x, int off, int length, int[] run, int runs, int cols) {
        int at = 0;
        for (int u = 0; u <= runs; u++) {
            int stop = u < runs ? run[2 * u] : length;
            if (stop > at) zero(x, off + at * cols, (stop - at) * cols);
            if (u < runs) at = run[2 * u + 1];
        }
    }

    /** out = in W + b over positions [p0, p1) of a [d, d] linear layer, into heap (the same rows) and back into out. */
    private void linearRows(OffHeapFloats in, String name, OffHeapFloats out, int p0, int p1, float[] heap) {
        linearRowsToHeap(in, name, out, p0, p1, heap);
        out.put(p0 * d, heap, p0 * d, (p1 - p0) * d);
    }

    /** The same with the result on the heap only (out is scratch). */
    private void linearRowsToHeap(OffHeapFloats in, String name, OffHeapFloats out, int p0, int p1, float[] heap) {
        int o = p0 * d, len = (p1 - p0) * d;
        Blas.gemm(false, false, p1 - p0, d, d, 1f, in, o, d, weightsOff.get(name + ".weight"), 0, d, 0f, out, o, d);
        out.get(o, heap, o, len);
        addRowBias(heap, weights.get(name + ".bias"), p0, p1, d);
    }

    /** A LayerNorm's gain and bias gradients: sums over the positions of the runs ({@link #blockRuns}) in order. */
    private void layerNormParameters(float[] dy, float[] xhat, String name, int[] run, int runs, Map<String, float[]> grads) {
        float[] dGain = new float[d], dBias = new float[d];
        for (int u = 0; u < runs; u++) TransformerKernels.layerNormParameterGradients(dy, xhat, dGain, dBias, run[2 * u], run[2 * u + 1], d);
        grads.put(name + ".gain", dGain);
        grads.put(name + ".bias", dBias);
    }

    /** The head's gradients, in {@link #headBackward}'s order. */
    private void headParameters(float[] dz, float[] y, int n, Map<String, float[]> grads) {
        float[] gWh = new float[d];
        float bias = 0;
        for (int i = 0; i < n; i++) {
            if (dz[i] == 0f) continue; // adds exactly 0 to every sum
            bias += dz[i];
            int o = i * d;
            for (int c = 0; c < d; c++) gWh[c] += y[o + c] * dz[i];
        }
        grads.put("head.weight", gWh);
        grads.put("head.bias", new float[]{bias});
    }

    /**
     * {@code policyUpdate: fast-eligible}: the same objective and gradient, with the query side
     * computed only at the M positions whose outputs enter the loss (eligible ones, and in PPO every
     * key the value head pools). Embedding, LayerNorm 1 and the key and value projections run at
     * every position (every position is a key); the query projection, each row's attention (M_r
     * queries against all w keys), the output projection, LayerNorm 2, the MLP, the final LayerNorm
     * and the head run on the M needed rows, compacted. The other positions' outputs never reach the
     * loss, so the result is the full computation's, but the products have other shapes and OpenBLAS
     * rounds them differently: it agrees with {@code fast} to float rounding, not bit for bit
     * ({@code EligibleRowsGradientsTest}).
     */
    private Result computeEligible(Map<String, INDArray> graphWeights, Minibatch mb, Collection<String> wanted) {
        if (graphWeights != null) loadWeights(graphWeights); // a group engine has its parent's (shareWeights)
        int rows = mb.rows(), w = mb.width(), n = rows * w;
        ensureCapacity(n, rows * heads * w * w, w);
        markNeeded(mb, n);
        int m = indexNeeded(rows, w);

        // ------------------------------------------------------------------ forward, every position
        feats.put(0, mb.features(), 0, n * f);
        gemm(false, false, n, d, f, feats, f, weightsOff.get("embed.weight"), d, x0, d);
        x0.get(0, hX, 0, n * d);
        addEmbeddingBias(hX, weights.get("embed.bias"), pe, 0, n, w, d);
        System.arraycopy(hX, 0, hX0, 0, n * d); // the residual stream before the attention block
        layerNormSplit(hX, hXhat1, rstd1, hH, "layer0.ln1", n);
        h1.put(0, hH, 0, n * d);
        linearBulk(h1, "layer0.attn.k", k, n);
        linearBulk(h1, "layer0.attn.v", v, n);
        // ------------------------------------------------------------------ forward, the M needed rows
        gatherRows(hH, qIdx, m, d, bProj);
        h1c.put(0, bProj, 0, m * d);
        linearBulk(h1c, "layer0.attn.q", q, m);
        float scale = (float) (1.0 / Math.sqrt(dh));
        float[] keyBias = mb.keyBias();
        workers.forRanges(rows, ROW_CHUNK, (wk, from, to) -> {
            for (int r = from; r < to; r++) attentionForwardCompact(perWorker[wk], r, w, scale, keyBias);
        });
        linearBulk(ctx, "layer0.attn.out", tmp, m);
        tmp.get(0, hH, 0, m * d);
        residualGathered(hX0, qIdx, hH, hX, m, d);
        System.arraycopy(hX, 0, hX1, 0, m * d); // and before the MLP
        layerNormSplit(hX, hXhat2, rstd2, hH, "layer0.ln2", m);
        h2.put(0, hH, 0, m * d);
        mlpForward(m);
        layerNormSplit(hX, hXhatF, rstdF, hY, "final_ln", m);
        float[] wh = weights.get("head.weight");
        headLogits(hY, wh, weights.get("head.bias")[0], hZc, m, d);
        Arrays.fill(hZ, 0, n, 0f); // the loss reads eligible positions only, all among the needed
        for (int c = 0; c < m; c++) hZ[qIdx[c]] = hZc[c];

        double[] value = null, pooledCount = null;
        float[][] pooled = null;
        if (ppo) {
            value = new double[rows];
            pooledCount = new double[rows];
            pooled = new float[rows][d];
            valueHeadCompact(mb, rows, w, value, pooledCount, pooled);
        }

        // ---------------------------------------------------------------------------------- loss
        double[] avgWeight = new double[rows];
        double rowWeight = 1.0 / (weightRows > 0 ? weightRows : rows);
        for (int r = 0; r < rows; r++) avgWeight[r] = mb.stepWeights() == null ? rowWeight : mb.stepWeights()[r];
        double[] dLogp = new double[rows];
        double[] terms = loss(mb, rows, w, value, avgWeight, dLogp);
        double surrogateSum = terms[0], entropySum = terms[1], klSum = terms[2], valueSum = terms[3], clipCount = terms[4], approxKl = terms[5];
        double loss = objective(terms);

        // ------------------------------------------------------------------ backward, the M needed rows
        logitGradient(mb, rows, w, dLogp, avgWeight, bZ);
        float[] dz = hZc;
        for (int c = 0; c < m; c++) dz[c] = bZ[qIdx[c]];
        Map<String, float[]> grads = new HashMap<>();
        float[] gWh = new float[d];
        float[] gBh = new float[1];
        float[] dy = hH;
        headBackward(dz, hY, wh, gWh, gBh, dy, m, d);
        grads.put("head.weight", gWh);
        grads.put("head.bias", gBh);
        float[] gWv = new float[d];
        float[] gBv = new float[1];
        if (ppo) valueBackwardCompact(mb, rows, w, value, pooledCount, pooled, avgWeight, gWv, gBv, dy);
        grads.put("value_head.weight", gWv);
        grads.put("value_head.bias", gBv);

        float[] dX2 = bX2;
        layerNormBackwardSplit(dy, hXhatF, rstdF, "final_ln", dX2, m, grads);
        float[] dh2 = mlpBackward(dX2, m, grads);
        float[] dX1 = dX2;
        float[] dLn = bLn;
        layerNormBackwardSplit(dh2, hXhat2, rstd2, "layer0.ln2", dLn, m, grads);
        addInto(dX1, dLn, m * d);
        dTmp.put(0, dX1, 0, m * d);
        gemm(false, true, m, d, d, dTmp, d, weightsOff.get("layer0.attn.out.weight"), d, dctx, d);
        weightGradient(ctx, d, dTmp, d, m, "layer0.attn.out.weight");
        grads.put("layer0.attn.out.bias", columnSums(dX1, m, d));
        workers.forRanges(rows, ROW_CHUNK, (wk, from, to) -> {
            for (int r = from; r < to; r++) attentionBackwardCompact(perWorker[wk], r, w, scale);
        });

        // ------------------------------------------------------------------ backward, every position
        float[] dh1 = bH1;
        Arrays.fill(dh1, 0, n * d, 0f);
        float[] heap = bProj;
        weightGradient(h1c, d, dq, d, m, "layer0.attn.q.weight");
        dq.get(0, heap, 0, m * d);
        grads.put("layer0.attn.q.bias", columnSums(heap, m, d));
        gemm(false, true, m, d, d, dq, d, weightsOff.get("layer0.attn.q.weight"), d, dH, d);
        dH.get(0, heap, 0, m * d);
        scatterAdd(dh1, qIdx, heap, m, d);
        for (String lin : List.of("k", "v")) {
            OffHeapFloats g = lin.equals("k") ? dk : dv;
            weightGradient(h1, d, g, d, n, "layer0.attn." + lin + ".weight");
            g.get(0, heap, 0, n * d);
            grads.put("layer0.attn." + lin + ".bias", columnSums(heap, n, d));
            gemm(false, true, n, d, d, g, d, weightsOff.get("layer0.attn." + lin + ".weight"), d, dH, d);
            dH.get(0, heap, 0, n * d);
            addInto(dh1, heap, n * d);
        }
        float[] dX0 = bX0; // the residual's gradient reaches the needed positions only
        Arrays.fill(dX0, 0, n * d, 0f);
        scatterAdd(dX0, qIdx, dX1, m, d);
        layerNormBackwardSplit(dh1, hXhat1, rstd1, "layer0.ln1", dLn, n, grads);
        addInto(dX0, dLn, n * d);
        dX.put(0, dX0, 0, n * d);
        weightGradient(feats, f, dX, d, n, "embed.weight");
        grads.put("embed.bias", columnSums(dX0, n, d));

        if (weightRows > 0) { // a group engine: the parent sums the raw terms and gradients
            lastTerms = terms;
            lastGradients = rawGradients(grads, wanted);
            return null;
        }
        return new Result(loss, clipCount / rows, approxKl / rows, entropySum, klSum, gradientsOut(grads, wanted));
    }

    private double objective(double[] terms) {
        return -terms[0] - entropyCoef * terms[1] + (ppo ? valueCoef * terms[3] : 0) + (klCoef > 0 ? klCoef * terms[2] : 0);
    }

    /**
     * fast-eligible: the minibatch in fixed groups of steps, each computed whole by one thread's
     * engine ({@link #computeEligible}), the groups' objective terms and gradients summed in group
     * order. Every step's terms are its own, so the result is the whole minibatch's up to float
     * rounding, and the same for any number of threads.
     */
    private Result computeGrouped(Map<String, INDArray> graphWeights, Minibatch mb, Collection<String> wanted) {
        loadWeights(graphWeights);
        int rows = mb.rows(), w = mb.width(), per = Math.max(1, GROUP_POSITIONS / w), groups = (rows + per - 1) / per;
        if (groupEngines == null) {
            groupEngines = new FastPolicyGradients[workers.threads()];
            for (int i = 0; i < groupEngines.length; i++) groupEngines[i] = new FastPolicyGradients(this);
        }
        double[][] terms = new double[groups][];
        List<Map<String, float[]>> grads = new ArrayList<>(Collections.nCopies(groups, null));
        workers.forRanges(groups, 1, (wk, from, to) -> {
            FastPolicyGradients engine = groupEngines[wk];
            engine.shareWeights(this);
            engine.weightRows = rows;
            for (int g = from; g < to; g++) {
                engine.computeEligible(null, slice(mb, g * per, Math.min(rows, (g + 1) * per)), wanted);
                terms[g] = engine.lastTerms;
                grads.set(g, engine.lastGradients);
            }
        });
        double[] sum = new double[6];
        for (double[] t : terms) for (int i = 0; i < sum.length; i++) sum[i] += t[i];
        Map<String, INDArray> out = new TreeMap<>();
        for (String name : wanted) {
            float[] total = new float[grads.get(0).get(name).length];
            for (Map<String, float[]> g : grads) {
                float[] x = g.get(name);
                for (int j = 0; j < total.length; j++) total[j] += x[j];
            }
            out.put(name, Nd4j.create(total, shapes.get(name), 'c'));
        }
        return new Result(objective(sum), sum[4] / rows, sum[5] / rows, sum[1], sum[2], out);
    }

    /** The parent's weights, loaded once per minibatch, as this engine's. */
    private void shareWeights(FastPolicyGradients parent) {
        for (var e : parent.weights.entrySet()) {
            weights.put(e.getKey(), e.getValue());
            weightsOff.get(e.getKey()).put(0, e.getValue(), 0, e.getValue().length);
        }
    }

    /** Steps [from, to) of a minibatch. */
    private Minibatch slice(Minibatch mb, int from, int to) {
        int w = mb.width();
        return new Minibatch(to - from, w, Arrays.copyOfRange(mb.features(), from * w * f, to * w * f),
                Arrays.copyOfRange(mb.keyBias(), from * w, to * w), Arrays.copyOfRange(mb.actions(), from * w, to * w),
                Arrays.copyOfRange(mb.eligible(), from * w, to * w), Arrays.copyOfRange(mb.oldLogProb(), from, to),
                Arrays.copyOfRange(mb.advantages(), from, to), rangeOrNull(mb.returns(), from, to), rangeOrNull(mb.refLogProb(), from, to),
                rangeOrNull(mb.stepWeights(), from, to));
    }

    private static float[] rangeOrNull(float[] x, int from, int to) {
        return x == null ? null : Arrays.copyOfRange(x, from, to);
    }

    /** LayerNorm 2's output (h2) through the MLP into the residual stream: hX = hX1 + MLP(h2), over the first {@code rows} rows. */
    private void mlpForward(int rows) {
        gemm(false, false, rows, ff, d, h2, d, weightsOff.get("layer0.mlp.in.weight"), ff, gel, ff);
        gel.get(0, hU, 0, rows * ff);
        float[] bIn = weights.get("layer0.mlp.in.bias"), bOut = weights.get("layer0.mlp.out.bias");
        workers.forRanges(rows, POSITION_CHUNK, (wk, from, to) -> {
            addRowBias(hU, bIn, from, to, ff);
            TransformerKernels.gelu(hU, hSig, hGel, from * ff, to * ff, geluScratch);
        });
        gel.put(0, hGel, 0, rows * ff);
        gemm(false, false, rows, d, ff, gel, ff, weightsOff.get("layer0.mlp.out.weight"), d, tmp, d);
        tmp.get(0, hH, 0, rows * d);
        workers.forRanges(rows, POSITION_CHUNK, (wk, from, to) -> residualWithBias(hX1, hH, bOut, hX, from, to, d));
    }

    /** The MLP's backward from the residual stream's gradient dX2: its weights' and biases' gradients, and the gradient at LayerNorm 2's output (returned). */
    private float[] mlpBackward(float[] dX2, int rows, Map<String, float[]> grads) {
        dTmp.put(0, dX2, 0, rows * d);
        float[] du = bU;
        float[][] bias = new float[2][];
        workers.all(wk -> {
                    gemm(false, true, rows, ff, d, dTmp, d, weightsOff.get("layer0.mlp.out.weight"), d, dGel, ff);
                    dGel.get(0, du, 0, rows * ff);
                },
                wk -> weightGradient(gel, ff, dTmp, d, rows, "layer0.mlp.out.weight"),
                wk -> bias[0] = columnSums(dX2, rows, d));
        workers.forRanges(rows, POSITION_CHUNK, (wk, from, to) -> TransformerKernels.geluBackward(du, hSig, hGel, from * ff, to * ff));
        dGel.put(0, du, 0, rows * ff);
        float[] dh2 = bH2;
        workers.all(wk -> weightGradient(h2, d, dGel, ff, rows, "layer0.mlp.in.weight"),
                wk -> bias[1] = columnSums(du, rows, ff),
                wk -> {
                    gemm(false, true, rows, d, ff, dGel, ff, weightsOff.get("layer0.mlp.in.weight"), ff, dH, d);
                    dH.get(0, dh2, 0, rows * d);
                });
        grads.put("layer0.mlp.out.bias", bias[0]);
        grads.put("layer0.mlp.in.bias", bias[1]);
        return dh2;
    }

    /** The asked-for gradients as the graph's variables are shaped: computed here (grads) or accumulated off-heap. */
    private Map<String, INDArray> gradientsOut(Map<String, float[]> grads, Collection<String> wanted) {
        Map<String, INDArray> out = new TreeMap<>();
        rawGradients(grads, wanted).forEach((name, g) -> out.put(name, Nd4j.create(g, shapes.get(name), 'c')));
        return out;
    }

    /** The asked-for gradients as flat arrays, each of its own. */
    private Map<String, float[]> rawGradients(Map<String, float[]> grads, Collection<String> wanted) {
        Map<String, float[]> out = new TreeMap<>();
        for (String name : wanted) {
            float[] g = grads.get(name);
            if (g == null) {
                OffHeapFloats off = gradsOff.get(name);
                if (off == null) throw new IllegalArgumentException("no parameter " + name);
                g = off.toArray();
            }
            out.put(name, g);
        }
        return out;
    }

    /** out = in W + b for a [d, d] linear layer, the bias added to the whole block on the heap at once. */
    private void linearBulk(OffHeapFloats in, String name, OffHeapFloats out, int n) {
        gemm(false, false, n, d, d, in, d, weightsOff.get(name + ".weight"), d, out, d);
        float[] b = weights.get(name + ".bias"), x = bLin;
        out.get(0, x, 0, n * d);
        workers.forRanges(n, POSITION_CHUNK, (wk, from, to) -> addRowBias(x, b, from, to, d));
        out.put(0, x, 0, n * d);
    }

    /** {@link #layerNorm} with the row's sums split in four running sums (other rounding, shorter dependency chains). */
    private void layerNormSplit(float[] x, float[] xhat, float[] rstd, float[] out, String name, int n) {
        float[] g = weights.get(name + ".gain"), b = weights.get(name + ".bias");
        workers.forRanges(n, POSITION_CHUNK, (wk, from, to) -> {
            for (int i = from; i < to; i++) rstd[i] = TransformerKernels.layerNormRowScaled(x, xhat, out, i * d, g, b, d);
        });
    }

    /** {@link #layerNormBackward} with the row's sums split in four running sums. */
    private void layerNormBackwardSplit(float[] dy, float[] xhat, float[] rstd, String name, float[] dx, int n, Map<String, float[]> grads) {
        float[] g = weights.get(name + ".gain");
        float[] dGain = new float[d], dBias = new float[d];
        int half = n / 2;
        UpdateWorkers.Range inputs = (wk, from, to) -> {
            float[] dxhat = perWorker[wk].row;
            for (int i = from; i < to; i++) TransformerKernels.layerNormBackwardRowInput(dy, xhat, rstd[i], dx, i * d, g, dxhat, d, false);
        };
        workers.all(wk -> TransformerKernels.layerNormParameterGradients(dy, xhat, dGain, dBias, 0, n, d),
                wk -> inputs.run(wk, 0, half), wk -> inputs.run(wk, half, n));
        grads.put(name + ".gain", dGain);
        grads.put(name + ".bias", dBias);
    }

    /** qIdx, posToM and rowStart from needed; returns M, the number of needed positions. */
    private int indexNeeded(int rows, int w) {
        if (rowStart == null || rowStart.length < rows + 1) rowStart = new int[rows + 1];
        int m = 0;
        for (int r = 0; r < rows; r++) {
            rowStart[r] = m;
            for (int j = 0; j < w; j++) {
                int i = r * w + j;
                if (needed[i]) {
                    qIdx[m] = i;
                    posToM[i] = m++;
                } else {
                    posToM[i] = -1;
                }
            }
        }
        rowStart[rows] = m;
        return m;
    }

    /** out's c-th row = x's idx[c]-th row, rows of d. */
    private static void gatherRows(float[] x, int[] idx, int m, int d, float[] out) {
        for (int c = 0; c < m; c++) System.arraycopy(x, idx[c] * d, out, c * d, d);
    }

    /** acc's idx[c]-th row += x's c-th row. */
    private static void scatterAdd(float[] acc, int[] idx, float[] x, int m, int d) {
        for (int c = 0; c < m; c++) {
            int o = idx[c] * d, oc = c * d;
            for (int j = 0; j < d; j++) acc[o + j] += x[oc + j];
        }
    }

    /** out's c-th row = x0's idx[c]-th row + h's c-th row. */
    private static void residualGathered(float[] x0, int[] idx, float[] h, float[] out, int m, int d) {
        for (int c = 0; c < m; c++) {
            int o = idx[c] * d, oc = c * d;
            for (int j = 0; j < d; j++) out[oc + j] = x0[o + j] + h[oc + j];
        }
    }

    /**
     * Row r's attention, every head, for its needed queries only (rows rowStart[r].. of q and ctx)
     * against all w keys of the row; probabilities [count, w] per head, packed in probs.
     */
    private void attentionForwardCompact(RowScratch s, int r, int w, float scale, float[] keyBias) {
        float[] rowP = s.p;
        int first = rowStart[r], count = rowStart[r + 1] - first;
        if (count == 0) return;
        boolean maskedKeys = false;
        for (int j = 0; j < w; j++) maskedKeys |= keyBias[r * w + j] != 0f;
        for (int hd = 0; hd < heads; hd++) {
            int qOff = first * d + hd * dh, kOff = r * w * d + hd * dh, pOff = (first * heads + hd * count) * w;
            Blas.gemm(false, true, count, w, dh, scale, q, qOff, d, k, kOff, d, 0f, probs, pOff, w);
            probs.get(pOff, rowP, 0, count * w);
            if (maskedKeys) { // adding a bias of 0 changes no probability: skipped for a row that masks no key
                for (int c = 0; c < count; c++) {
                    int o = c * w;
                    for (int j = 0; j < w; j++) rowP[o + j] += keyBias[r * w + j];
                }
            }
            FloatKernels.softmaxRows(rowP, count, w, w, s.exp);
            probs.put(pOff, rowP, 0, count * w);
            Blas.gemm(false, false, count, dh, w, 1f, probs, pOff, w, v, kOff, d, 0f, ctx, qOff, d);
        }
    }

    /** Row r's attention backward, every head: dV and dK at all w keys, dQ at the needed queries. */
    private void attentionBackwardCompact(RowScratch s, int r, int w, float scale) {
        float[] rowP = s.p, rowD = s.dp;
        int first = rowStart[r], count = rowStart[r + 1] - first;
        if (count == 0) { // no query of this row reaches the loss: its keys and values get no gradient
            zero(dk, r * w * d, w * d);
            zero(dv, r * w * d, w * d);
            return;
        }
        for (int hd = 0; hd < heads; hd++) {
            int qOff = first * d + hd * dh, kOff = r * w * d + hd * dh, pOff = (first * heads + hd * count) * w;
            Blas.gemm(false, true, count, w, dh, 1f, dctx, qOff, d, v, kOff, d, 0f, dProbs, pOff, w);   // dP = dctx V^T
            Blas.gemm(true, false, w, dh, count, 1f, probs, pOff, w, dctx, qOff, d, 0f, dv, kOff, d);    // dV = P^T dctx
            probs.get(pOff, rowP, 0, count * w);
            dProbs.get(pOff, rowD, 0, count * w);
            TransformerKernels.softmaxBackwardRows(rowP, rowD, count, w, w);
            dProbs.put(pOff, rowD, 0, count * w);
            Blas.gemm(false, false, count, dh, w, scale, dProbs, pOff, w, k, kOff, d, 0f, dq, qOff, d);  // dQ = dS K s
            Blas.gemm(true, false, w, dh, count, scale, dProbs, pOff, w, q, qOff, d, 0f, dk, kOff, d);   // dK = dS^T Q s
        }
    }

    /** x[from, from + len) = 0, in pieces of the zeros buffer (grown before the threads start, read-only after). */
    private void zero(OffHeapFloats x, int from, int len) {
        for (int at = 0; at < len; at += zeros.length) x.put(from + at, zeros, 0, Math.min(zeros.length, len - at));
    }

    /** The value head on the compacted final features: every pooled key is a needed position. */
    private void valueHeadCompact(Minibatch mb, int rows, int w, double[] value, double[] pooledCount, float[][] pooled) {
        float[] wv = weights.get("value_head.weight");
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < w; j++) {
                if (mb.keyBias()[r * w + j] > -1f) {
                    pooledCount[r]++;
                    int o = posToM[r * w + j] * d;
                    for (int c = 0; c < d; c++) pooled[r][c] += hY[o + c];
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

    private void valueBackwardCompact(Minibatch mb, int rows, int w, double[] value, double[] pooledCount, float[][] pooled, double[] avgWeight,
                                      float[] gWv, float[] gBv, float[] dy) {
        float[] wv = weights.get("value_head.weight");
        float bias = 0;
        for (int r = 0; r < rows; r++) {
            float dV = (float) (valueCoef * avgWeight[r] * 2 * (value[r] - mb.returns()[r]));
            bias += dV;
            for (int c = 0; c < d; c++) gWv[c] += pooled[r][c] * dV;
            for (int j = 0; j < w; j++) {
                if (mb.keyBias()[r * w + j] <= -1f) continue;
                int o = posToM[r * w + j] * d;
                for (int c = 0; c < d; c++) dy[o + c] += (float) (dV * wv[c] / pooledCount[r]);
            }
        }
        gBv[0] = bias;
    }

    private void loadWeights(Map<String, INDArray> graphWeights) {
        for (var e : weightsOff.entrySet()) {
            INDArray w = graphWeights.get(e.getKey());
            if (w == null) throw new IllegalStateException("policy weights lack " + e.getKey());
            float[] data = GraphWeights.values(w);
            if (data.length != e.getValue().size()) throw new IllegalStateException(e.getKey() + " has " + data.length + " values, expected " + e.getValue().size());
            e.getValue().put(0, data, 0, data.length);
            weights.put(e.getKey(), data);
        }
    }

    private static void addEmbeddingBias(float[] x, float[] eb, float[] pe, int from, int to, int w, int d) {
        for (int i = from; i < to; i++) {
            int o = i * d, po = (i % w) * d;
            for (int j = 0; j < d; j++) x[o + j] += eb[j] + pe[po + j];
        }
    }

    private void markNeeded(Minibatch mb, int n) {
        float[] el = mb.eligible(), keyBias = mb.keyBias();
        for (int i = 0; i < n; i++) needed[i] = el[i] != 0f || (ppo && keyBias[i] > -1f);
    }

    /** The query rows of row r whose outputs enter the loss, into rowIdx; returns how many. */
    private int neededQueries(int r, int w, int[] rowIdx) {
        int count = 0;
        for (int i = 0; i < w; i++) if (needed[r * w + i]) rowIdx[count++] = i;
        return count;
    }

    /**
     * One row's attention, every head: scores, the key bias, softmax (kept in probs for the backward
     * pass), the mix of values. Only the queries whose outputs enter the loss get a softmax (each
     * row's arithmetic as before); the others' probabilities are 0, so their context is 0 and, with
     * the zero gradient they get, they add exact zeros to every sum of the backward pass. The
     * scores and the mixing run over the query runs of {@link #blockRuns} only.
     */
    private void attentionForward(RowScratch s, int r, int w, float scale, float[] keyBias) {
        float[] rowC = s.compact;
        int[] rowIdx = s.idx;
        int count = neededQueries(r, w, rowIdx);
        int[] run = s.runs;
        int runs = blockRuns(needed, r * w, (r + 1) * w, run);
        zeroOutsideRuns(ctx, r * w, w, run, runs); // a query without probabilities has a context of 0
        for (int hd = 0; hd < heads; hd++) {
            int off = r * w * d + hd * dh, pOff = (r * heads + hd) * w * w;
            for (int u = 0; u < runs; u++) {
                int a = run[2 * u], b = run[2 * u + 1];
                Blas.gemm(false, true, b - a, w, dh, scale, q, off + a * d, d, k, off, d, 0f, probs, pOff + a * w, w);
            }
            // the needed queries' score rows, compacted, with the key bias; their softmax goes back in place, every other row is 0
            for (int c = 0; c < count; c++) probs.get(pOff + rowIdx[c] * w, rowC, c * w, w);
            addKeyBias(rowC, count, keyBias, r * w, w);
            FloatKernels.softmaxRows(rowC, count, w, w, s.exp);
            for (int c = 0; c < count; c++) probs.put(pOff + rowIdx[c] * w, rowC, c * w, w);
            zeroOtherRows(probs, pOff, rowIdx, count, w);
            for (int u = 0; u < runs; u++) {
                int a = run[2 * u], b = run[2 * u + 1];
                Blas.gemm(false, false, b - a, dh, w, 1f, probs, pOff + a * w, w, v, off, d, 0f, ctx, off + a * d, d);
            }
        }
    }

    /** Each of the first count rows of x plus the key bias keyBias[from..from+w). */
    private static void addKeyBias(float[] x, int count, float[] keyBias, int from, int w) {
        for (int c = 0; c < count; c++) {
            int oc = c * w;
            for (int j = 0; j < w; j++) x[oc + j] = x[oc + j] + keyBias[from + j];
        }
    }

    /** The rows of a w x w matrix at off in x that are not among idx[0..count) (ascending) become 0. */
    private void zeroOtherRows(OffHeapFloats x, int off, int[] idx, int count, int w) {
        int at = 0;
        for (int c = 0; c <= count; c++) {
            int stop = c < count ? idx[c] : w;
            if (stop > at) zero(x, off + at * w, (stop - at) * w);
            at = stop + 1;
        }
    }

    /** One row's attention backward, every head: dV, the softmax's backward, dQ and dK (dP and dQ only over the query runs of the forward). */
    private void attentionBackward(RowScratch s, int r, int w, float scale) {
        float[] rowP = s.p, rowD = s.dp;
        int[] rowIdx = s.idx;
        int count = neededQueries(r, w, rowIdx);
        int[] run = s.runs;
        int runs = blockRuns(needed, r * w, (r + 1) * w, run);
        zeroOutsideRuns(dq, r * w, w, run, runs); // a query outside the loss has dS = 0, so dQ = 0
        for (int hd = 0; hd < heads; hd++) {
            int off = r * w * d + hd * dh, pOff = (r * heads + hd) * w * w;
            for (int u = 0; u < runs; u++) {
                int a = run[2 * u], b = run[2 * u + 1];
                Blas.gemm(false, true, b - a, w, dh, 1f, dctx, off + a * d, d, v, off, d, 0f, dProbs, pOff + a * w, w);   // dP = dctx V^T
            }
            // outside the runs dS is 0; a query in a run but outside the loss has dctx = 0, so its dP row, left as dS, is 0
            zeroOutsideRuns(dProbs, pOff, w, run, runs, w);
            Blas.gemm(true, false, w, dh, w, 1f, probs, pOff, w, dctx, off, d, 0f, dv, off, d);    // dV = P^T dctx
            // the needed queries' rows of P and dP, compacted; dS = softmax'(dP) goes back in place
            for (int c = 0; c < count; c++) {
                probs.get(pOff + rowIdx[c] * w, rowP, c * w, w);
                dProbs.get(pOff + rowIdx[c] * w, rowD, c * w, w);
            }
            TransformerKernels.softmaxBackwardRowsSequential(rowP, rowD, s.identity, count, w);
            for (int c = 0; c < count; c++) dProbs.put(pOff + rowIdx[c] * w, rowD, c * w, w);
            for (int u = 0; u < runs; u++) {
                int a = run[2 * u], b = run[2 * u + 1];
                Blas.gemm(false, false, b - a, dh, w, scale, dProbs, pOff + a * w, w, k, off, d, 0f, dq, off + a * d, d);  // dQ = dS K s
            }
            Blas.gemm(true, false, w, dh, w, scale, dProbs, pOff, w, q, off, d, 0f, dk, off, d);   // dK = dS^T Q s
        }
    }

    private static void sum(float[] a, float[] b, float[] out, int from, int to) {
        for (int i = from; i < to; i++) out[i] = a[i] + b[i];
    }

    /** out = ((0 + a) + b) + c, as zeroing out and adding a, b and c into it one after the other. */
    private static void sumOfThree(float[] a, float[] b, float[] c, float[] out, int from, int to) {
        for (int i = from; i < to; i++) out[i] = ((0f + a[i]) + b[i]) + c[i];
    }

    private static void addInto(float[] acc, float[] x, int len) {
        for (int i = 0; i < len; i++) acc[i] += x[i];
    }

    private static void addRowBias(float[] x, float[] b, int from, int to, int cols) {
        for (int i = from; i < to; i++) for (int j = 0; j < cols; j++) x[i * cols + j] += b[j];
    }

    private static void residualWithBias(float[] x1, float[] h, float[] b, float[] out, int from, int to, int d) {
        for (int i = from; i < to; i++) for (int j = 0; j < d; j++) out[i * d + j] = x1[i * d + j] + h[i * d + j] + b[j];
    }

    private static void headLogits(float[] y, float[] wh, float bh, float[] z, int n, int d) {
        for (int i = 0; i < n; i++) z[i] = dotRow(y, i * d, wh) + bh;
    }

    /** Row r's value-head input and value: the mean of its final features over the keys the head pools (keyBias > -1), then linear. */
    private void valueHeadRow(Minibatch mb, int r, int w, double[] value, double[] pooledCount, float[][] pooled) {
        float[] wv = weights.get("value_head.weight");
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

    /** The objective's terms over the minibatch and d loss / d log pi per step; returns surrogate, entropy, kl, value, clipped count, approxKl. */
    private double[] loss(Minibatch mb, int rows, int w, double[] value, double[] avgWeight, double[] dLogp) {
        double[] sum = new double[6];
        for (int r = 0; r < rows; r++) {
            double[] t = rowLoss(mb, r, w, value, avgWeight, dLogp);
            for (int i = 0; i < sum.length; i++) sum[i] += t[i];
        }
        return sum;
    }

    /** Row r's terms of {@link #loss} (a term the objective lacks is 0) and its d loss / d log pi into dLogp[r]. */
    private double[] rowLoss(Minibatch mb, int r, int w, double[] value, double[] avgWeight, double[] dLogp) {
        float[] a = mb.actions(), el = mb.eligible();
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
        double[] t = new double[6];
        t[0] = avgWeight[r] * Math.min(ratio * adv, clipped * adv);
        t[1] = avgWeight[r] * ent;
        dLogp[r] = throughRatio ? -avgWeight[r] * adv * ratio : 0;
        if (Math.abs(ratio - 1) > clipEps) t[4] = 1;
        t[5] = mb.oldLogProb()[r] - logp;
        if (klCoef > 0) {
            double diff = mb.refLogProb()[r] - logp;
            t[2] = avgWeight[r] * (Math.exp(diff) - diff - 1);
            dLogp[r] += klCoef * avgWeight[r] * (1 - Math.exp(diff));
        }
        if (ppo) {
            double err = value[r] - mb.returns()[r];
            t[3] = avgWeight[r] * err * err;
        }
        return t;
    }

    private void logitGradient(Minibatch mb, int rows, int w, double[] dLogp, double[] avgWeight, float[] dz) {
        Arrays.fill(dz, 0, rows * w, 0f);
        for (int r = 0; r < rows; r++) logitGradientRow(mb, r, w, dLogp, avgWeight, dz);
    }

    /** Row r's d loss / d logit at its eligible positions (the others are left as they are: 0). */
    private void logitGradientRow(Minibatch mb, int r, int w, double[] dLogp, double[] avgWeight, float[] dz) {
        float[] a = mb.actions(), el = mb.eligible();
        for (int j = 0; j < w; j++) {
            int i = r * w + j;
            if (el[i] == 0f) continue;
            double z = hZ[i], p = 1 / (1 + Math.exp(-z));
            // d logp / dz = a - p; d entropy / dz = -z p (1 - p)
            dz[i] = (float) (dLogp[r] * (a[i] - p) + entropyCoef * avgWeight[r] * z * p * (1 - p));
        }
    }

    private static void headBackward(float[] dz, float[] y, float[] wh, float[] gWh, float[] gBh, float[] dy, int n, int d) {
        float bias = 0;
        for (int i = 0; i < n; i++) {
            bias += dz[i];
            int o = i * d;
            for (int c = 0; c < d; c++) {
                gWh[c] += y[o + c] * dz[i];
                dy[o + c] = dz[i] * wh[c];
            }
        }
        gBh[0] = bias;
    }

    /** Row r's value loss into dy at the keys its value head pools; its d loss / d value kept for {@link #valueParameters}. */
    private void valueBackwardRow(Minibatch mb, int r, int w, Steps s, float[] dy) {
        float[] wv = weights.get("value_head.weight");
        float dV = (float) (valueCoef * s.avgWeight[r] * 2 * (s.value[r] - mb.returns()[r]));
        s.dValue[r] = dV;
        for (int j = 0; j < w; j++) {
            if (mb.keyBias()[r * w + j] <= -1f) continue;
            int o = (r * w + j) * d;
            for (int c = 0; c < d; c++) dy[o + c] += (float) (dV * wv[c] / s.pooledCount[r]);
        }
    }

    /** The value head's gradients: sums over the rows in order. */
    private void valueParameters(Steps s, float[] gWv, float[] gBv) {
        float bias = 0;
        for (int r = 0; r < s.rows; r++) {
            float dV = s.dValue[r];
            bias += dV;
            for (int c = 0; c < d; c++) gWv[c] += s.pooled[r][c] * dV;
        }
        gBv[0] = bias;
    }

    private static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    private static float dotRow(float[] m, int from, float[] w) {
        float s = 0;
        for (int c = 0; c < w.length; c++) s += m[from + c] * w[c];
        return s;
    }

    /** C = op(A) op(B) over all rows, one call (fast-eligible's products, and every product whose inner dimension runs over positions). */
    private void gemm(boolean ta, boolean tb, int m, int nCols, int kInner, OffHeapFloats a, int lda, OffHeapFloats b, int ldb, OffHeapFloats c, int ldc) {
        Blas.gemm(ta, tb, m, nCols, kInner, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, ldc);
    }

    /** grad[name] = in^T dOut, in [n, inCols], dOut [n, outCols]. */
    private void weightGradient(OffHeapFloats in, int inCols, OffHeapFloats dOut, int outCols, int n, String name) {
        Blas.gemm(true, false, inCols, outCols, n, 1f, in, 0, inCols, dOut, 0, outCols, 0f, gradsOff.get(name), 0, outCols);
    }

    /** Each column's sum over the rows in order; four rows per pass over the sums, added one after the other. */
    private static float[] columnSums(float[] m, int n, int cols) {
        return columnSums(m, new int[]{0, n}, 1, cols);
    }

    /** The same over the rows of the runs ({@link #blockRuns}, from row 0) in order. */
    private static float[] columnSums(float[] m, int[] run, int runs, int cols) {
        float[] s = new float[cols];
        for (int u = 0; u < runs; u++) {
            int i = run[2 * u], n = run[2 * u + 1];
            for (; i + 4 <= n; i += 4) {
                int o = i * cols;
                for (int j = 0; j < cols; j++) s[j] = s[j] + m[o + j] + m[o + cols + j] + m[o + 2 * cols + j] + m[o + 3 * cols + j];
            }
            for (; i < n; i++) for (int j = 0; j < cols; j++) s[j] += m[i * cols + j];
        }
        return s;
    }

    private void ensureCapacity(int n, int probSize, int width) {
        if (pe == null || pe.length != width * d) pe = PolicyWindow.sinusoid(width, d);
        if (perWorker == null || perWorker[0].compact.length < width * width) {
            perWorker = new RowScratch[workers.threads()];
            for (int i = 0; i < perWorker.length; i++) perWorker[i] = new RowScratch(width, d);
            zeros = new float[width * d];
        }
        // each buffer is zeroed as it is allocated, a page fault per 4 KB the first time: spread over the threads
        List<UpdateWorkers.Task> alloc = new ArrayList<>();
        if (probSize > probCapacity) {
            alloc.add(wk -> probs = new OffHeapFloats(probSize));
            alloc.add(wk -> dProbs = new OffHeapFloats(probSize));
            probCapacity = probSize;
        }
        if (n <= capacity) {
            workers.all(alloc.toArray(new UpdateWorkers.Task[0]));
            return;
        }
        capacity = n;
        alloc.add(wk -> feats = new OffHeapFloats(n * f));
        alloc.add(wk -> x0 = new OffHeapFloats(n * d));
        alloc.add(wk -> h1 = new OffHeapFloats(n * d));
        alloc.add(wk -> q = new OffHeapFloats(n * d));
        alloc.add(wk -> k = new OffHeapFloats(n * d));
        alloc.add(wk -> v = new OffHeapFloats(n * d));
        alloc.add(wk -> ctx = new OffHeapFloats(n * d));
        alloc.add(wk -> h2 = new OffHeapFloats(n * d));
        alloc.add(wk -> tmp = new OffHeapFloats(n * d));
        alloc.add(wk -> dTmp = new OffHeapFloats(n * d));
        alloc.add(wk -> dTmp2 = new OffHeapFloats(n * d));
        alloc.add(wk -> dqkvHeap = new float[][]{new float[n * d], new float[n * d], new float[n * d]});
        alloc.add(wk -> bYF = new float[n * d]);
        alloc.add(wk -> bX1 = new float[n * d]);
        alloc.add(wk -> dX = new OffHeapFloats(n * d));
        alloc.add(wk -> dH = new OffHeapFloats(n * d));
        alloc.add(wk -> dq = new OffHeapFloats(n * d));
        alloc.add(wk -> dk = new OffHeapFloats(n * d));
        alloc.add(wk -> dv = new OffHeapFloats(n * d));
        alloc.add(wk -> dctx = new OffHeapFloats(n * d));
        alloc.add(wk -> dProj = new OffHeapFloats[]{new OffHeapFloats(n * d), new OffHeapFloats(n * d), new OffHeapFloats(n * d)});
        alloc.add(wk -> dProjHeap = new float[][]{new float[n * d], new float[n * d], new float[n * d]});
        alloc.add(wk -> gel = new OffHeapFloats(n * ff));
        alloc.add(wk -> dGel = new OffHeapFloats(n * ff));
        alloc.add(wk -> needed = new boolean[n]);
        alloc.add(wk -> backward = new boolean[n]);
        alloc.add(wk -> inGradientStep = new boolean[n]);
        alloc.add(wk -> bX0 = new float[n * d]);
        alloc.add(wk -> hX = new float[n * d]);
        alloc.add(wk -> hX0 = new float[n * d]);
        alloc.add(wk -> hX1 = new float[n * d]);
        alloc.add(wk -> hH = new float[n * d]);
        alloc.add(wk -> hXhat1 = new float[n * d]);
        alloc.add(wk -> hXhat2 = new float[n * d]);
        alloc.add(wk -> hXhatF = new float[n * d]);
        alloc.add(wk -> hY = new float[n * d]);
        alloc.add(wk -> rstd1 = new float[n]);
        alloc.add(wk -> rstd2 = new float[n]);
        alloc.add(wk -> rstdF = new float[n]);
        alloc.add(wk -> hZ = new float[n]);
        alloc.add(wk -> bZ = new float[n]);
        alloc.add(wk -> bX2 = new float[n * d]);
        alloc.add(wk -> bU = new float[n * ff]);
        alloc.add(wk -> bH2 = new float[n * d]);
        alloc.add(wk -> bLn = new float[n * d]);
        alloc.add(wk -> bH1 = new float[n * d]);
        alloc.add(wk -> hU = new float[n * ff]);
        alloc.add(wk -> hSig = new float[n * ff]);
        alloc.add(wk -> hGel = new float[n * ff]);
        alloc.add(wk -> geluScratch = new float[n * ff]);
        if (eligibleOnly) { // fast-eligible's own
            alloc.add(wk -> qIdx = new int[n]);
            alloc.add(wk -> posToM = new int[n]);
            alloc.add(wk -> h1c = new OffHeapFloats(n * d));
            alloc.add(wk -> hZc = new float[n]);
            alloc.add(wk -> bLin = new float[n * d]);
            alloc.add(wk -> bProj = new float[n * d]);
        }
        workers.all(alloc.toArray(new UpdateWorkers.Task[0]));
    }
}
