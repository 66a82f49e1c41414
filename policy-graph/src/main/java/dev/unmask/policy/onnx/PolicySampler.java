package dev.unmask.policy.onnx;

import dev.unmask.policy.BernoulliDecision;

import dev.unmask.env.UnmaskException;
import dev.unmask.policy.PolicyFeatures;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The call an inference engine makes once per denoising step: the dLLM's confidences on the
 * active block in, the positions to unmask out. Runs the exported ONNX policy through ONNX Runtime
 * only (no ND4J on this path).
 *
 * <pre>{@code
 * try (PolicySampler policy = PolicySampler.greedy(Path.of("policy.onnx"))) {
 *     // conf[j] = p(top-1) at index j of the active block, NaN where already unmasked
 *     int[] unmask = policy.select(conf, null);
 * }
 * }</pre>
 *
 * The policy was trained on windows laid out by index inside the active block (its position
 * encoding is that index), so positions keep their block index: already-unmasked ones are NaN in
 * the first form, or are simply left out of {@code maskedIndices} in the second. The result is
 * never empty while a position is masked. Not thread-safe.
 */
public final class PolicySampler implements AutoCloseable {
    private final OnnxPolicyModel model;
    private final double temperature;
    private final SplittableRandom rng;
    private final List<PolicyFeatures> features;
    private final List<String> extraNames;

    private PolicySampler(OnnxPolicyModel model, double temperature, SplittableRandom rng) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) throw new UnmaskException("policy temperature must be > 0, got " + temperature);
        this.model = model;
        this.temperature = temperature;
        this.rng = rng;
        this.features = model.features();
        this.extraNames = features.stream().filter(f -> !f.derivesFromConfidence()).map(f -> f.name().toLowerCase()).toList();
    }

    /** Deterministic: unmask every position with p >= 0.5 (or the most probable one). */
    public static PolicySampler greedy(Path onnx) {
        return new PolicySampler(OnnxPolicyModel.load(onnx), 1.0, null);
    }

    /** Samples a Bernoulli(sigmoid(logit / temperature)) per position from its own seeded stream. */
    public static PolicySampler sampling(Path onnx, double temperature, long seed) {
        return new PolicySampler(OnnxPolicyModel.load(onnx), temperature, new SplittableRandom(seed));
    }

    /** Every feature the policy reads, in order. */
    public List<String> featureNames() {
        return model.features().stream().map(f -> f.name().toLowerCase()).toList();
    }

    /**
     * The features the caller must supply, in the order {@code extraFeatures[i]} must give them: every
     * feature but those computed here from the confidences (confidence, confidence_logodds). Empty
     * for the default policy and for one that reads log-odds.
     */
    public List<String> extraFeatureNames() {
        return extraNames;
    }

    /**
     * @param confidences   one entry per position of the active block, in order; Float.NaN where the
     *                      position is already unmasked
     * @param extraFeatures null for a confidence-only policy, else [block length][extraFeatureNames().size()]
     *                      (rows of unmasked positions are ignored)
     * @return indices into the block (ascending) to unmask now
     */
    public int[] select(float[] confidences, float[][] extraFeatures) {
        int n = 0;
        for (float c : confidences) if (!Float.isNaN(c)) n++;
        int[] idx = new int[n];
        float[] conf = new float[n];
        float[][] extra = extraFeatures == null ? null : new float[n][];
        n = 0;
        for (int j = 0; j < confidences.length; j++) {
            if (Float.isNaN(confidences[j])) continue;
            idx[n] = j;
            conf[n] = confidences[j];
            if (extra != null) {
                if (j >= extraFeatures.length) throw new UnmaskException("extraFeatures has " + extraFeatures.length + " rows for a block of " + confidences.length);
                extra[n] = extraFeatures[j];
            }
            n++;
        }
        return select(confidences.length, idx, conf, extra);
    }

    /**
     * @param blockLength   positions in the active block
     * @param maskedIndices ascending block indices of the still-masked positions
     * @param confidences   their confidences, aligned with maskedIndices
     * @param extraFeatures null, or [maskedIndices.length][extraFeatureNames().size()], aligned
     * @return block indices (a subset of maskedIndices, ascending) to unmask now
     */
    public int[] select(int blockLength, int[] maskedIndices, float[] confidences, float[][] extraFeatures) {
        if (model.seesWholeBuffer()) throw new UnmaskException("this policy sees the whole buffer: call selectInBuffer with every position's confidence");
        int n = maskedIndices.length, f = features.size();
        if (n == 0) throw new UnmaskException("no masked position in the block: nothing to choose from");
        if (confidences.length != n) throw new UnmaskException(confidences.length + " confidences for " + n + " masked positions");
        if (!extraNames.isEmpty() && (extraFeatures == null || extraFeatures.length != n)) {
            throw new UnmaskException("this policy also reads " + extraNames + ": pass extraFeatures with one row of " + extraNames.size() + " values per masked position");
        }
        if (extraNames.isEmpty() && extraFeatures != null && extraFeatures.length > 0 && extraFeatures[0] != null && extraFeatures[0].length > 0) {
            throw new UnmaskException("this policy needs only the confidences: pass extraFeatures = null");
        }
        float[] feats = new float[blockLength * f], elig = new float[blockLength];
        int prev = -1;
        for (int m = 0; m < n; m++) {
            int j = maskedIndices[m];
            if (j <= prev || j >= blockLength) throw new UnmaskException("masked index " + j + " is out of order or outside the block of " + blockLength);
            prev = j;
            elig[j] = 1f;
            int e = 0;
            for (int k = 0; k < f; k++) {
                PolicyFeatures feature = features.get(k);
                if (feature.derivesFromConfidence()) {
                    feats[j * f + k] = feature.ofConfidence(confidences[m]);
                } else {
                    if (extraFeatures[m].length != extraNames.size()) {
                        throw new UnmaskException("extraFeatures row " + m + " has " + extraFeatures[m].length + " values; the policy reads " + extraNames);
                    }
                    feats[j * f + k] = extraFeatures[m][e++];
                }
            }
        }
        return decide(feats, elig, blockLength);
    }

    /**
     * The call for a policy that sees the whole generation buffer ({@code context: buffer}): every
     * position in, the active block's positions to unmask out.
     *
     * @param confidences   one per buffer position; Float.NaN where a token is already written
     * @param activeFrom    the active block is [activeFrom, activeTo) (the whole buffer in full diffusion)
     * @param extraFeatures null for a policy that reads only confidences, else
     *                      [buffer length][extraFeatureNames().size()], every position (mask_bit,
     *                      buffer_step_fraction and knob are defined everywhere; margin and entropy
     *                      are read as 0 where a token is written)
     * @return buffer positions (masked, inside the active block, ascending) to unmask now
     */
    public int[] selectInBuffer(float[] confidences, int activeFrom, int activeTo, float[][] extraFeatures) {
        if (!model.seesWholeBuffer()) throw new UnmaskException("this policy sees the active block only: call select with the block's confidences");
        int len = confidences.length, f = features.size();
        if (activeFrom < 0 || activeTo > len || activeFrom >= activeTo) throw new UnmaskException("active block [" + activeFrom + ", " + activeTo + ") is not inside a buffer of " + len);
        if (!extraNames.isEmpty() && (extraFeatures == null || extraFeatures.length != len)) {
            throw new UnmaskException("this policy also reads " + extraNames + ": pass extraFeatures with one row of " + extraNames.size() + " values per buffer position");
        }
        float[] feats = new float[len * f], elig = new float[len];
        boolean any = false;
        for (int j = 0; j < len; j++) {
            boolean masked = !Float.isNaN(confidences[j]);
            if (masked && j >= activeFrom && j < activeTo) {
                elig[j] = 1f;
                any = true;
            }
            int e = 0;
            for (int k = 0; k < f; k++) {
                PolicyFeatures feature = features.get(k);
                if (feature.derivesFromConfidence()) {
                    if (masked) feats[j * f + k] = feature.ofConfidence(confidences[j]);
                    continue;
                }
                if (extraFeatures[j].length != extraNames.size()) {
                    throw new UnmaskException("extraFeatures row " + j + " has " + extraFeatures[j].length + " values; the policy reads " + extraNames);
                }
                float v = extraFeatures[j][e++];
                if (!(feature.isDllmStatistic() && !masked)) feats[j * f + k] = v;
            }
        }
        if (!any) throw new UnmaskException("no masked position in the active block: nothing to choose from");
        return decide(feats, elig, len);
    }

    /** One window through the model and the decision rule: the chosen indices, ascending (never empty while one is eligible). */
    private int[] decide(float[] feats, float[] elig, int width) {
        float[] logits = model.logits(feats, elig, 1, width);
        boolean[] take = BernoulliDecision.decide(logits, 0, width, j -> elig[j] != 0f, temperature, rng != null, rng).taken();
        return java.util.stream.IntStream.range(0, width).filter(j -> take[j]).toArray();
    }

    @Override
    public void close() {
        model.close();
    }
}
