package dev.unmask.env.model;

import dev.unmask.env.UnmaskException;

/** Architecture of the built-in bidirectional masked-diffusion transformer. */
public record DllmConfig(int dModel, int layers, int heads, int ffDim, int maxLength, long initSeed) {
    public DllmConfig {
        if (dModel <= 0 || layers <= 0 || heads <= 0 || ffDim <= 0 || maxLength <= 0) {
            throw new UnmaskException("dLLM config needs positive dModel, layers, heads, ffDim, maxLength");
        }
        if (dModel % heads != 0) throw new UnmaskException("dLLM config: dModel " + dModel + " is not divisible by heads " + heads);
    }

    public static DllmConfig small(long seed) {
        return new DllmConfig(128, 4, 4, 512, 96, seed);
    }

    public long parameterCount(int vocab) {
        long perLayer = 4L * (dModel * dModel + dModel) + 2L * dModel * ffDim + ffDim + dModel + 4L * dModel;
        return (long) vocab * dModel + (long) maxLength * dModel + layers * perLayer + 2L * dModel + (long) dModel * vocab + vocab;
    }
}
