package dev.unmask.runs.bench;

import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmTrainConfig;
import dev.unmask.dllm.DllmTrainer;
import dev.unmask.nn.Blas;
import dev.unmask.nn.OffHeapFloats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One training step (batch, forward, backward, Adam) of each dLLM trainer on the same Sudoku
 * batches ({@code trainBatch} x 53), the two trainers and the GEMM peak measured in turn within
 * every repetition, so background load hits them alike; medians after three warm-up steps.
 */
public record TrainStepBench(BuiltinDllm model, int trainBatch, int trainReps) {
    public void run() {
        System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of peak |");
        System.out.println("|---|---|---|---|---|---|");
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sudoku"), 1_000_000, trainBatch, 1e-4, 0, 1.0, 3, 1_000_000, 0.0);
        Map<DllmTrainer.Kind, DllmTrainer> trainers = new EnumMap<>(DllmTrainer.Kind.class);
        for (DllmTrainer.Kind k : DllmTrainer.Kind.values()) {
            BuiltinDllm copy = new BuiltinDllm(model.config(), model.vocabulary());
            copy.loadWeights(model.weights(), "bench");
            trainers.put(k, new DllmTrainer(copy, cfg, k));
        }
        DllmTrainer.Batch probe = trainers.get(DllmTrainer.Kind.FAST).batch(0);
        int rows = probe.noisy().length, len = probe.targets().length / rows;
        OffHeapFloats[] blas = {new OffHeapFloats(256 * 256), new OffHeapFloats(256 * 256),
                new OffHeapFloats(256 * 256)};
        for (int i = 0; i < 256 * 256; i++) {
            blas[0].set(i, (float) Math.random());
            blas[1].set(i, (float) Math.random());
        }
        int inner = 20;
        Runnable nd4jGemm = Timing.gemm256(inner);
        Runnable blasGemm = () -> {
            for (int i = 0; i < inner; i++) Blas.gemm(false, false, 256, 256, 256, 1f, blas[0], 0, 256, blas[1], 0, 256, 0f, blas[2], 0, 256);
        };
        for (int w = 0; w < 3; w++) {
            trainers.values().forEach(DllmTrainer::trainStep);
            nd4jGemm.run();
            blasGemm.run();
        }
        double[][] ms = new double[4][trainReps], cpu = new double[2][trainReps];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < trainReps; r++) {
            ms[0][r] = Timing.median(1, nd4jGemm) / inner;
            ms[1][r] = Timing.median(1, blasGemm) / inner;
            for (int k = 0; k < 2; k++) {
                // SameDiff leaves GBs of dead off-heap buffers: collect them first, not on the next step's clock
                System.gc();
                long cpuStart = threads.getCurrentThreadCpuTime();
                ms[2 + k][r] = Timing.median(1, trainers.get(k == 0 ? DllmTrainer.Kind.FAST : DllmTrainer.Kind.SAMEDIFF)::trainStep);
                cpu[k][r] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e6;
            }
        }
        // the fast trainer alone, step after step as a training run (and the PyTorch reference) runs it: no GC
        // and no SameDiff step in between to evict its buffers from the caches
        double[] consecutive = new double[trainReps];
        DllmTrainer fast = trainers.get(DllmTrainer.Kind.FAST);
        for (int w = 0; w < 3; w++) fast.trainStep();
        for (int r = 0; r < trainReps; r++) consecutive[r] = Timing.median(1, fast::trainStep);
        Arrays.sort(consecutive);
        for (double[] m : ms) Arrays.sort(m);
        for (double[] m : cpu) Arrays.sort(m);
        double gemmFlops = 2.0 * 256 * 256 * 256, peak = gemmFlops / ms[0][trainReps / 2] / 1e6;
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        double blasPeak = gemmFlops / ms[1][trainReps / 2] / 1e6;
        System.out.printf(Locale.ROOT, "| OpenBLAS sgemm | 256x256x256 | | | %.1f | %.0f |%n", blasPeak, 100 * blasPeak / peak);
        double flops = Flops.trainStepFlops(model.config(), model.vocabulary().size(), rows, len);
        for (int k = 0; k < 2; k++) {
            double m = ms[2 + k][trainReps / 2];
            System.out.printf(Locale.ROOT, "| dLLM train step (%s) | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", k == 0 ? "fast" : "samediff", rows, len, m,
                    rows * len / m * 1e3, flops / m / 1e6, 100 * flops / m / 1e6 / peak);
        }
        double mc = consecutive[trainReps / 2];
        System.out.printf(Locale.ROOT, "| dLLM train step (fast, consecutive steps) | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", rows, len, mc,
                rows * len / mc * 1e3, flops / mc / 1e6, 100 * flops / mc / 1e6 / peak);
        System.out.printf(Locale.ROOT, "samediff / fast: %.2fx (medians of %d interleaved steps after 3 warm-up steps); "
                        + "this thread's CPU time per step: fast %.1f ms, samediff %.1f ms (%.2fx), less sensitive to other processes than wall time%n",
                ms[3][trainReps / 2] / ms[2][trainReps / 2], trainReps, cpu[0][trainReps / 2], cpu[1][trainReps / 2], cpu[1][trainReps / 2] / cpu[0][trainReps / 2]);
        System.out.println("GFLOP/s of a train step counts 3x the forward's projections, MLP, attention and head products (no one-hot embedding "
                + "or rotary [d, d] products, which the fast trainer does not do), the same count for both trainers.");
    }
}
