package dev.unmask.cli;

import picocli.CommandLine.Option;

/** {@code --seed} (default 1), the same option in every command that takes one seed: dllm train, eval, probe and tasks. */
final class SeedOption {
    @Option(names = "--seed", defaultValue = "1")
    long seed = 1;
}
