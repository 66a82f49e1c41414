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
        PolicyFeatures.parse(features);
        features = List.copyOf(features);
        if (dModel <= 0 || heads <= 0 || ffDim <= 0) throw new UnmaskException("policy config needs positive dModel, heads, ffDim");
        if (dModel % heads != 0) throw new UnmaskException("policy dModel " + dModel + " is not divisible by heads " + heads);
        if (dModel % 2 != 0) throw new UnmaskException("policy dModel must be even (sinusoidal position encoding)");
        if (context == null) context = BLOCK;
        if (!context.equals(BLOCK) && !context.equals(BUFFER)) throw new UnmaskException("policy context must be block or buffer, got '" + context + "'");
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
