package dev.unmask.cli;

import dev.unmask.dllm.DllmConfig;
import dev.unmask.runs.bench.Flops;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BenchCommandTest {
    @Test
    void flopCountFollowsTheArchitectureFlags() {
        int vocab = 40, batch = 8, len = 80, d = 64, layers = 2, maxLength = 96;
        double n = batch * len;
        DllmConfig plain = new DllmConfig(d, layers, 4, 256, maxLength, 1);
        DllmConfig rotary = new DllmConfig(d, layers, 4, 256, maxLength, 1, true, false, false);
        DllmConfig rotaryOnly = new DllmConfig(d, layers, 4, 256, maxLength, 1, true, false, true);
        // rotate-half of queries and keys: two [n, d] x [d, d] products per layer
        assertEquals(layers * 2 * 2 * n * d * d, Flops.forwardFlops(rotary, vocab, batch, len) - Flops.forwardFlops(plain, vocab, batch, len), 1e-3);
        // no position table: its one-hot product is gone
        assertEquals(2 * n * maxLength * d, Flops.forwardFlops(rotary, vocab, batch, len) - Flops.forwardFlops(rotaryOnly, vocab, batch, len), 1e-3);
    }

    @Test
    void aTrainStepCountsThreeForwardsWithoutTheProductsTheFastTrainerSkips() {
        int vocab = 24, batch = 48, len = 53, maxLength = 96;
        DllmConfig rotary = new DllmConfig(64, 2, 4, 256, maxLength, 1, true, false, false);
        double n = batch * len;
        double skipped = 2 * 2 * 2 * n * 64 * 64 + 2 * n * (vocab + maxLength) * 64; // rotate-half per layer, one-hot embeddings
        assertEquals(3 * (Flops.forwardFlops(rotary, vocab, batch, len) - skipped), Flops.trainStepFlops(rotary, vocab, batch, len), 1e-3);
    }
}
