package dev.unmask.cli;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.io.Checksums;

import java.nio.file.Path;

/**
 * The one line every command prints (on stderr) before it loads a dLLM: which folder, which
 * weights (SHA-256 prefix) and what runs it. Defaults pick a dLLM per task, so a user must be able
 * to see which one ran.
 */
final class DllmLine {
    private DllmLine() {
    }

    static String of(Path dllm, String weightsSha256, String engine) {
        return "dLLM: " + dllm + " (weights sha256 " + weightsSha256.substring(0, 12) + ", engine " + engine + ")";
    }

    /** Prints the line and returns the weights' SHA-256. */
    static String print(Path dllm, Denoisers.Engine requested) {
        String sha = Checksums.sha256(Denoisers.weightsFile(dllm));
        System.err.println(of(dllm, sha, Denoisers.engineFor(dllm, requested).label()));
        return sha;
    }
}
