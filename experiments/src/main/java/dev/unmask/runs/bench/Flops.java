package dev.unmask.runs.bench;

import dev.unmask.dllm.DllmConfig;

/** Matrix-product flop counts (2 flops per multiply-add) of the dLLM's forward pass and training step, the numerators of the benches' GFLOP/s. */
public final class Flops {
    private Flops() {
    }

    /** Matrix-product flops of a training step: forward plus backward (twice the forward) of the essential products. */
    public static double trainStepFlops(DllmConfig c, int vocab, int batch, int len) {
        double n = (double) batch * len, d = c.dModel();
        double perLayer = 2 * n * d * d * 4 + 2 * n * d * c.ffDim() * 2 + 2 * 2 * batch * (double) len * len * d;
        return 3 * (c.layers() * perLayer + 2 * n * d * vocab);
    }

    /** Matrix-product flops of one forward pass. */
    public static double forwardFlops(DllmConfig c, int vocab, int batch, int len) {
        double n = (double) batch * len, d = c.dModel();
        double perLayer = 2 * n * d * d * 4 + 2 * n * d * c.ffDim() * 2 + 2 * 2 * batch * (double) len * len * d
                + (c.rotary() ? 2 * 2 * n * d * d : 0); // rotate-half of queries and keys is a [d, d] product each
        // embeddings are one-hot products with the token table and (unless rotary-only) the position table
        return c.layers() * perLayer + 2 * n * (vocab + (c.rotaryOnly() ? 0 : c.maxLength())) * d + 2 * n * d * vocab;
    }
}
