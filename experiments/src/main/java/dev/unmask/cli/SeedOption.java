package dev.unmask.cli;

import picocli.CommandLine.Option;

/** {@code --seed} (default 1), the same option in every command that takes one seed: dllm train, eval, probe and tasks. */
final class SeedOption {
    @Option(names = "--seed", defaultValue = "1", paramLabel = "N",
            description = "Seed of the prompt draw: which instances of the split are taken, and in what order (the same seed draws the same prompts); "
                    + "dllm train also draws its initial weights and training batches from it. Default: ${DEFAULT-VALUE}.")
    long seed = 1;
}
