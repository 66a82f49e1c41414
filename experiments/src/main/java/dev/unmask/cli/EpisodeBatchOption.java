package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import picocli.CommandLine.Option;

/** {@code --batch}: episodes decoded together, in the commands that decode with policies (eval, sweep, dllm eval). */
final class EpisodeBatchOption {
    @Option(names = "--batch", defaultValue = "64", description = "Episodes decoded together (default: ${DEFAULT-VALUE}).")
    int batch = 64;

    /** A one-line error unless at least one episode is decoded at a time. */
    int checked() {
        if (batch <= 0) throw new UnmaskException("--batch must be at least 1, got " + batch);
        return batch;
    }
}
