package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;

/**
 * Architecture of the built-in bidirectional masked-diffusion transformer. {@code rotary} adds
 * rotary position encoding (RoPE) in every attention layer on top of the learned position
 * embeddings. {@code fourierDigits} starts the embeddings of the digits 0-9 from Fourier features
 * of period 10 (cos and sin of 2 pi k d / 10), the representation networks end up using for sums
 * modulo 10, so the units digit of a sum need not be discovered from random vectors; it changes
 * only the initial weights. {@code rotaryOnly} drops the learned position table, so attention
 * knows only offsets (as in LLaDA): a model cannot then compute a step of a worked trace from
 * fixed prompt positions and must use the trace, the same way at every step. Checkpoints written
 * before these existed load with all three false.
 */
public record DllmConfig(int dModel, int layers, int heads, int ffDim, int maxLength, long initSeed, boolean rotary, boolean fourierDigits,
                         boolean rotaryOnly) {
    public DllmConfig(int dModel, int layers, int heads, int ffDim, int maxLength, long initSeed) {
        this(dModel, layers, heads, ffDim, maxLength, initSeed, false, false, false);
    }

    public DllmConfig(int dModel, int layers, int heads, int ffDim, int maxLength, long initSeed, boolean rotary, boolean fourierDigits) {
        this(dModel, layers, heads, ffDim, maxLength, initSeed, rotary, fourierDigits, false);
    }

    public DllmConfig {
        if (dModel <= 0 || layers <= 0 || heads <= 0 || ffDim <= 0 || maxLength <= 0) {
            throw new UnmaskException("dLLM config needs positive dModel, layers, heads, ffDim, maxLength");
        }
        if (dModel % heads != 0) throw new UnmaskException("dLLM config: dModel " + dModel + " is not divisible by heads " + heads);
        if (rotaryOnly && !rotary) throw new UnmaskException("dLLM config: rotaryOnly needs rotary positions");
        if (fourierDigits && dModel < 10) throw new UnmaskException("dLLM config: Fourier digit embeddings need a width of at least 10, not " + dModel);
        if (rotary && (dModel / heads) % 2 != 0) throw new UnmaskException("dLLM config: rotary positions need an even head width, not " + dModel / heads);
    }

    /** "builtin:d96-l3-h4[-rope|-ropeonly][-fourier]", the start of every built-in model's description. */
    public String label() {
        return "builtin:d" + dModel + "-l" + layers + "-h" + heads + (rotaryOnly ? "-ropeonly" : rotary ? "-rope" : "") + (fourierDigits ? "-fourier" : "");
    }

    public static DllmConfig small(long seed) {
        return new DllmConfig(128, 4, 4, 512, 96, seed);
    }

    public long parameterCount(int vocab) {
        long perLayer = 4L * (dModel * dModel + dModel) + 2L * dModel * ffDim + ffDim + dModel + 4L * dModel;
        return (long) vocab * dModel + (long) maxLength * dModel + layers * perLayer + 2L * dModel + (long) dModel * vocab + vocab;
    }
}
