package dev.unmask.policy;

import dev.unmask.env.UnmaskException;

import java.util.List;

/**
 * Architecture of the unmasking policy: features in, one pre-LN transformer encoder layer over the
 * positions in view, a per-position logit. Which features it reads is part of the config, so a
 * checkpoint always knows its inputs.
 *
 * @param context what the policy sees: {@code block} (the active block's eligible positions only;
 *                every policy before this option, and what a stored config without the key means)
 *                or {@code buffer} (every position of the generation buffer, unmasked ones too, as
 *                in Jazbec et al.; it still acts only on the active block's masked positions). With
 *                {@code buffer}, the features {@code mask_bit} and {@code buffer_step_fraction}
 *                give the paper's conditioning inputs (here added to the input embedding, where the
 *                paper injects them by adaptive LayerNorm).
 */
public record PolicyConfig(List<String> features, int dModel, int heads, int ffDim, long initSeed, String context) {
    public static final String BLOCK = "block", BUFFER = "buffer";

    public PolicyConfig {
        checkShape(features, dModel, heads, ffDim);
        features = List.copyOf(features);
        if (context == null) context = BLOCK;
        if (!context.equals(BLOCK) && !context.equals(BUFFER)) throw new UnmaskException("policy context must be block or buffer, got '" + context + "'");
    }

    /**
     * The checks on a policy's shape, wherever it is given (a stored policy-config.json, a training
     * config's keys): one line naming the key that is wrong.
     *
     * @return the parsed features
     */
    public static List<PolicyFeatures> checkShape(List<String> features, int dModel, int heads, int ffDim) {
        if (dModel < 2) throw new UnmaskException("dModel must be >= 2, got " + dModel);
        if (heads < 1) throw new UnmaskException("heads must be >= 1, got " + heads);
        if (ffDim < 1) throw new UnmaskException("ffDim must be >= 1, got " + ffDim);
        if (dModel % heads != 0) throw new UnmaskException("dModel " + dModel + " is not divisible by heads " + heads);
        if (dModel % 2 != 0) throw new UnmaskException("dModel must be even (sinusoidal position encoding), got " + dModel);
        if (features == null) throw new UnmaskException("features must list at least one policy feature");
        return PolicyFeatures.parse(features);
    }

    /** A policy that sees the active block. */
    public PolicyConfig(List<String> features, int dModel, int heads, int ffDim, long initSeed) {
        this(features, dModel, heads, ffDim, initSeed, BLOCK);
    }

    /** The paper's setting: confidences only. */
    public static PolicyConfig defaults(long seed) {
        return new PolicyConfig(List.of("confidence"), 32, 2, 64, seed);
    }

    public List<PolicyFeatures> parsedFeatures() {
        return PolicyFeatures.parse(features);
    }

    public boolean seesWholeBuffer() {
        return context.equals(BUFFER);
    }
}
