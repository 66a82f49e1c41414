package dev.unmask.policy;

import dev.unmask.env.UnmaskException;

import java.util.List;

/**
 * Architecture of the unmasking policy: features in, one pre-LN transformer encoder layer over the
 * positions of the active block, a per-position logit. Which features it reads is part of the
 * config, so a checkpoint always knows its inputs.
 */
public record PolicyConfig(List<String> features, int dModel, int heads, int ffDim, long initSeed) {
    public PolicyConfig {
        PolicyFeatures.parse(features);
        features = List.copyOf(features);
        if (dModel <= 0 || heads <= 0 || ffDim <= 0) throw new UnmaskException("policy config needs positive dModel, heads, ffDim");
        if (dModel % heads != 0) throw new UnmaskException("policy dModel " + dModel + " is not divisible by heads " + heads);
        if (dModel % 2 != 0) throw new UnmaskException("policy dModel must be even (sinusoidal position encoding)");
    }

    /** The paper's setting: confidences only. */
    public static PolicyConfig defaults(long seed) {
        return new PolicyConfig(List.of("confidence"), 32, 2, 64, seed);
    }

    public List<PolicyFeatures> parsedFeatures() {
        return PolicyFeatures.parse(features);
    }
}
