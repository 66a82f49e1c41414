package dev.unmask.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --n} and {@code --seed}: which held-out prompts a look at a dLLM (dllm eval, dllm probe) draws per task. */
final class HeldOutOptions {
    @Option(names = "--n", defaultValue = "200", description = "Held-out prompts per task.")
    int n = 200;
    @Mixin
    SeedOption seed = new SeedOption();

    long seed() {
        return seed.seed;
    }
}
