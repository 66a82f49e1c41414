package dev.unmask.cli;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.env.model.BuiltinDllm;
import dev.unmask.env.model.DllmCheckpoint;
import dev.unmask.env.model.DllmConfig;
import dev.unmask.env.model.DllmTrainConfig;
import dev.unmask.env.model.DllmTrainer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * Speed is measured here, never asserted in tests. Prints the dLLM forward throughput and its
 * achieved GFLOP/s next to Nd4j.gemm's peak measured in the same process, so the ratio is
 * meaningful even on a noisy machine.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "dLLM forward throughput (tokens/s, GFLOP/s) against Nd4j.gemm peak, measured in one run.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "dLLM checkpoint (default: a fresh model of the default architecture).")
    Path checkpoint;
    @Option(names = "--batches", split = ",", defaultValue = "1,8,32,128") List<Integer> batches;
    @Option(names = "--length", defaultValue = "80", description = "Sequence length (prompt + buffer).") int length;
    @Option(names = "--reps", defaultValue = "5") int reps;
    @Option(names = "--env", description = "Also measure the batched environment (steps/s, tokens/s) against one-by-one episodes.")
    boolean env;
    @Option(names = "--env-batches", split = ",", defaultValue = "1,8,32,128") List<Integer> envBatches;
    @Option(names = "--compare-forward", description = "Also time the hand-written forward (FastDllm) on the same batches, interleaved, in rows labelled (fast).")
    boolean compareForward;
    @Option(names = "--onnx", description = "Also time this ONNX export of the model (a folder from 'export --dllm') through ONNX Runtime, in rows labelled (onnx).")
    Path onnx;
    @Option(names = "--train", description = "Measure a training step (batch, forward, backward, Adam) with both trainers instead of the forward pass, "
            + "interleaved with the GEMM peak.")
    boolean train;
    @Option(names = "--train-batch", defaultValue = "48", description = "Sequences per training step (Sudoku: 53 tokens each).") int trainBatch;
    @Option(names = "--train-reps", defaultValue = "20") int trainReps;

    @Override
    public Integer call() {
        BuiltinDllm model = checkpoint == null ? new BuiltinDllm(DllmConfig.small(1), Vocabulary.builtin()) : DllmCheckpoint.load(checkpoint);
        System.out.printf("model %s, %,d parameters; OMP_NUM_THREADS=%s%n", model.describe(), model.parameterCount(), System.getenv("OMP_NUM_THREADS"));
        System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of gemm peak |");
        System.out.println("|---|---|---|---|---|---|");
        if (train) {
            benchTraining(model);
            return 0;
        }
        double peak = gemmPeak(256);
        double peakLarge = gemmPeak(1024);
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 1024x1024x1024 | | | %.1f | %.0f |%n", peakLarge, 100 * peakLarge / peak);
        Random rng = new Random(7);
        dev.unmask.env.model.FastDllm fast = compareForward ? dev.unmask.env.model.FastDllm.of(model) : null;
        dev.unmask.env.denoiser.onnx.OnnxDenoiser ort = onnx == null ? null
                : dev.unmask.env.denoiser.onnx.OnnxDenoiser.load(onnx.resolve(dev.unmask.env.denoiser.onnx.DllmOnnxExporter.DESCRIPTOR));
        try {
            for (int b : batches) {
                int[][] seqs = new int[b][length];
                for (int[] s : seqs) for (int i = 0; i < length; i++) s[i] = 3 + rng.nextInt(model.vocabulary().size() - 3);
                // the implementations take turns within every repetition, so background load hits them alike
                List<Runnable> impls = new ArrayList<>(List.of(() -> model.logits(seqs)));
                List<String> labels = new ArrayList<>(List.of("dLLM forward"));
                if (fast != null) {
                    impls.add(() -> fast.logits(seqs));
                    labels.add("dLLM forward (fast)");
                }
                if (ort != null) {
                    impls.add(() -> ort.logits(seqs));
                    labels.add("dLLM forward (onnx)");
                }
                impls.forEach(Runnable::run); // warm-up: graph build, array cache, buffers
                double[][] t = new double[impls.size()][reps];
                for (int r = 0; r < reps; r++) for (int i = 0; i < impls.size(); i++) t[i][r] = median(1, impls.get(i));
                double flops = forwardFlops(model.config(), model.vocabulary().size(), b, length);
                for (int i = 0; i < impls.size(); i++) {
                    Arrays.sort(t[i]);
                    double ms = t[i][reps / 2];
                    System.out.printf(Locale.ROOT, "| %s | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", labels.get(i), b, length, ms, b * length / ms * 1e3,
                            flops / ms / 1e6, 100 * flops / ms / 1e6 / peak);
                }
            }
        } finally {
            if (ort != null) ort.close();
        }
        if (env) benchEnvironment(model);
        System.out.println("GFLOP/s counts the forward's matrix products (2 flops per multiply-add): projections, MLP, attention scores and mixing, embeddings, head"
                + (fast != null || ort != null ? "; the same count for every implementation" : "") + ".");
        return 0;
    }

    /**
     * Decodes arithmetic prompts with LLaDA top-k at one token per step (so every episode does
     * exactly L steps and the work is the same whatever the model's weights) at several batch sizes.
     * Batch 1 is "the same episodes one by one".
     */
    private void benchEnvironment(BuiltinDllm model) {
        Task task = Tasks.byName("arith");
        int len = task.defaultGenLength();
        UnmaskPolicy policy = Heuristics.parse("topk:steps=" + len);
        System.out.println();
        System.out.println("| environment batch | episodes | wall s | steps/s (forward passes) | tokens/s | vs one by one |");
        System.out.println("|---|---|---|---|---|---|");
        double base = Double.NaN;
        for (int b : envBatches) {
            int episodes = Math.max(b, b == 1 ? 8 : 2 * b);
            List<Example> prompts = task.dataset(Split.TEST, 5, episodes);
            UnmaskingEnv e = new UnmaskingEnv(model, task, len, len, 0, Reward.DEFAULT);
            e.run(prompts.subList(0, Math.min(b, 4)), 1, policy); // warm-up
            long t0 = System.nanoTime();
            long passes0 = e.forwardPasses();
            for (int from = 0; from < episodes; from += b) e.run(prompts.subList(from, Math.min(episodes, from + b)), 1, policy);
            double secs = (System.nanoTime() - t0) / 1e9;
            long passes = e.forwardPasses() - passes0;
            double tokensPerSec = (double) episodes * len / secs;
            if (b == envBatches.get(0)) base = tokensPerSec;
            System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.1f | %.0f | %.1fx |%n", b, episodes, secs, passes / secs,
                    tokensPerSec, tokensPerSec / base);
        }
    }

    /**
     * One training step of each trainer on the same Sudoku batches (48 x 53 by default), the two
     * trainers and the GEMM peak measured in turn within every repetition, so background load
     * hits them alike; medians after three warm-up steps.
     */
    private void benchTraining(BuiltinDllm model) {
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sudoku"), 1_000_000, trainBatch, 1e-4, 0, 1.0, 3, 1_000_000, 0.0);
        Map<DllmTrainer.Kind, DllmTrainer> trainers = new EnumMap<>(DllmTrainer.Kind.class);
        for (DllmTrainer.Kind k : DllmTrainer.Kind.values()) {
            BuiltinDllm copy = new BuiltinDllm(model.config(), model.vocabulary());
            copy.loadWeights(model.weights(), "bench");
            trainers.put(k, new DllmTrainer(copy, cfg, k));
        }
        DllmTrainer.Batch probe = trainers.get(DllmTrainer.Kind.FAST).batch(0);
        int rows = probe.noisy().length, len = probe.targets().length / rows;
        INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256), b = Nd4j.rand(DataType.FLOAT, 256, 256);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{256, 256}, 'f');
        dev.unmask.env.nn.OffHeapFloats[] blas = {new dev.unmask.env.nn.OffHeapFloats(256 * 256), new dev.unmask.env.nn.OffHeapFloats(256 * 256),
                new dev.unmask.env.nn.OffHeapFloats(256 * 256)};
        for (int i = 0; i < 256 * 256; i++) {
            blas[0].set(i, (float) Math.random());
            blas[1].set(i, (float) Math.random());
        }
        int inner = 20;
        Runnable nd4jGemm = () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        };
        Runnable blasGemm = () -> {
            for (int i = 0; i < inner; i++) dev.unmask.env.nn.Blas.gemm(false, false, 256, 256, 256, 1f, blas[0], 0, 256, blas[1], 0, 256, 0f, blas[2], 0, 256);
        };
        for (int w = 0; w < 3; w++) {
            trainers.values().forEach(DllmTrainer::trainStep);
            nd4jGemm.run();
            blasGemm.run();
        }
        double[][] ms = new double[4][trainReps], cpu = new double[2][trainReps];
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = 0; r < trainReps; r++) {
            ms[0][r] = median(1, nd4jGemm) / inner;
            ms[1][r] = median(1, blasGemm) / inner;
            for (int k = 0; k < 2; k++) {
                // SameDiff leaves GBs of dead off-heap buffers: collect them first, not on the next step's clock
                System.gc();
                long cpuStart = threads.getCurrentThreadCpuTime();
                ms[2 + k][r] = median(1, trainers.get(k == 0 ? DllmTrainer.Kind.FAST : DllmTrainer.Kind.SAMEDIFF)::trainStep);
                cpu[k][r] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e6;
            }
        }
        for (double[] m : ms) Arrays.sort(m);
        for (double[] m : cpu) Arrays.sort(m);
        double gemmFlops = 2.0 * 256 * 256 * 256, peak = gemmFlops / ms[0][trainReps / 2] / 1e6;
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        double blasPeak = gemmFlops / ms[1][trainReps / 2] / 1e6;
        System.out.printf(Locale.ROOT, "| OpenBLAS sgemm | 256x256x256 | | | %.1f | %.0f |%n", blasPeak, 100 * blasPeak / peak);
        double flops = trainStepFlops(model.config(), model.vocabulary().size(), rows, len);
        for (int k = 0; k < 2; k++) {
            double m = ms[2 + k][trainReps / 2];
            System.out.printf(Locale.ROOT, "| dLLM train step (%s) | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", k == 0 ? "fast" : "samediff", rows, len, m,
                    rows * len / m * 1e3, flops / m / 1e6, 100 * flops / m / 1e6 / peak);
        }
        System.out.printf(Locale.ROOT, "samediff / fast: %.2fx (medians of %d interleaved steps after 3 warm-up steps); "
                        + "this thread's CPU time per step: fast %.1f ms, samediff %.1f ms (%.2fx), less sensitive to other processes than wall time%n",
                ms[3][trainReps / 2] / ms[2][trainReps / 2], trainReps, cpu[0][trainReps / 2], cpu[1][trainReps / 2], cpu[1][trainReps / 2] / cpu[0][trainReps / 2]);
        System.out.println("GFLOP/s of a train step counts 3x the forward's projections, MLP, attention and head products (no one-hot embedding "
                + "or rotary [d, d] products, which the fast trainer does not do), the same count for both trainers.");
    }

    /** Matrix-product flops of a training step: forward plus backward (twice the forward) of the essential products. */
    static double trainStepFlops(DllmConfig c, int vocab, int batch, int len) {
        double n = (double) batch * len, d = c.dModel();
        double perLayer = 2 * n * d * d * 4 + 2 * n * d * c.ffDim() * 2 + 2 * 2 * batch * (double) len * len * d;
        return 3 * (c.layers() * perLayer + 2 * n * d * vocab);
    }

    /** Matrix-product flops of one forward pass. */
    static double forwardFlops(DllmConfig c, int vocab, int batch, int len) {
        double n = (double) batch * len, d = c.dModel();
        double perLayer = 2 * n * d * d * 4 + 2 * n * d * c.ffDim() * 2 + 2 * 2 * batch * (double) len * len * d
                + (c.rotary() ? 2 * 2 * n * d * d : 0); // rotate-half of queries and keys is a [d, d] product each
        // embeddings are one-hot products with the token table and (unless rotary-only) the position table
        return c.layers() * perLayer + 2 * n * (vocab + (c.rotaryOnly() ? 0 : c.maxLength())) * d + 2 * n * d * vocab;
    }

    private static double gemmPeak(int size) {
        INDArray a = Nd4j.rand(DataType.FLOAT, size, size), b = Nd4j.rand(DataType.FLOAT, size, size);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{size, size}, 'f');
        int inner = size >= 1024 ? 2 : 50;
        Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        double ms = median(reps(), () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }) / inner;
        return 2.0 * size * size * size / ms / 1e6;
    }

    private static int reps() {
        return 5;
    }

    static double median(int reps, Runnable body) {
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
}
