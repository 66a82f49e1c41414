package dev.unmask.runs.bench;

import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.FastDllm;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The dLLM's forward pass per engine and batch size: median ms, tokens/s and GFLOP/s against
 * Nd4j.gemm's peak (256 and 1024 square) measured in the same process.
 */
public record ForwardBench(BuiltinDllm model, List<String> engines, List<Integer> batches, int length, int reps) {
    public void run() {
        double peak = Timing.gemmPeak(256, reps);
        double peakLarge = Timing.gemmPeak(1024, Math.max(5, reps / 4));
        for (String engine : engines) {
            FastDllm fast = engine.equals("fast") ? FastDllm.of(model) : null;
            OnnxDenoiser ort = engine.equals("onnxruntime") ? onnxOf(model) : null;
            System.out.println();
            System.out.println("engine: " + engine + (ort != null ? " (the default inference path)" : ""));
            System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of peak |");
            System.out.println("|---|---|---|---|---|---|");
            System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
            System.out.printf(Locale.ROOT, "| Nd4j.gemm | 1024x1024x1024 | | | %.1f | %.0f |%n", peakLarge, 100 * peakLarge / peak);
            Random rng = new Random(7);
            for (int b : batches) {
                int[][] seqs = new int[b][length];
                for (int[] s : seqs) for (int i = 0; i < length; i++) s[i] = 3 + rng.nextInt(model.vocabulary().size() - 3);
                Runnable forward = ort != null ? () -> ort.logits(seqs) : fast != null ? () -> fast.logits(seqs) : () -> model.logits(seqs);
                double ms = Timing.warmThenMedian(reps, forward);
                double flops = Flops.forwardFlops(model.config(), model.vocabulary().size(), b, length);
                System.out.printf(Locale.ROOT, "| dLLM forward | %dx%d | %.2f | %.0f | %.2f | %.1f |%n", b, length, ms, b * length / ms * 1e3,
                        flops / ms / 1e6, 100 * flops / ms / 1e6 / peak);
            }
            if (ort != null) ort.close();
        }
    }

    /** The model in ONNX Runtime (the default inference path), exported in memory. */
    static OnnxDenoiser onnxOf(BuiltinDllm model) {
        return OnnxDenoiser.ofBuiltin(model.config(), model.vocabulary(), model.weights(), model.describe(), Path.of(model.describe()));
    }
}
