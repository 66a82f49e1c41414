package dev.unmask.cli;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.io.Checksums;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.dllm.DllmTrainConfig;
import dev.unmask.dllm.DllmTrainer;
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
        description = "dLLM forward throughput (tokens/s, GFLOP/s) of each engine against Nd4j.gemm peak, measured in one run.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM checkpoint (--checkpoint is the older name; default: a fresh model of the default architecture).")
    Path checkpoint;
    @Option(names = "--batches", split = ",", defaultValue = "1,8,32,128") List<Integer> batches;
    @Option(names = "--length", defaultValue = "80", description = "Sequence length (prompt + buffer).") int length;
    @Option(names = "--reps", defaultValue = "20", description = "Timed repetitions per shape after warm-up; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;
    @Option(names = "--engines", split = ",", defaultValue = "onnxruntime,samediff",
            description = "What runs the model: onnxruntime (the default inference path), samediff, fast (the hand-written forward of the fast trainer) (default: ${DEFAULT-VALUE}).")
    List<String> engines;
    @Option(names = "--env", description = "Also measure the batched environment (steps/s, tokens/s) against one-by-one episodes.")
    boolean env;
    @Option(names = "--env-batches", split = ",", defaultValue = "1,8,32,128") List<Integer> envBatches;
    @Option(names = "--synthetic-vocab", defaultValue = "0",
            description = "Also time one environment step (forward + per-position statistics) of a synthetic model with this many tokens, statistics in ONNX Runtime against logits copied to Java (0 = skip).")
    int syntheticVocab;

    /** At least this long and this many calls of warm-up per shape, then until the JIT settles. */
    static final long WARM_MIN_NANOS = 2_000_000_000L;
    static final int WARM_MIN_CALLS = 10;
    @Option(names = "--train", description = "Measure a training step (batch, forward, backward, Adam) with both trainers instead of the forward pass, "
            + "interleaved with the GEMM peak.")
    boolean train;
    @Option(names = "--train-batch", defaultValue = "48", description = "Sequences per training step (Sudoku: 53 tokens each).") int trainBatch;
    @Option(names = "--train-reps", defaultValue = "20") int trainReps;
    @Option(names = "--policy-update", description = "Measure the policy's update instead (one minibatch's forward and backward through the clipped "
            + "objective) with both policyUpdate settings, interleaved with the GEMM peak, on a random minibatch of --policy-config's shape.")
    boolean policyUpdate;
    @Option(names = "--policy-config", description = "Training config whose policy and minibatch to measure (default: configs/grpo-lag48-full-knob.yaml's "
            + "shape: 5 features, the whole 128-token buffer, minibatch 256).") Path policyConfig;

    @Override
    public Integer call() {
        if (reps < 5) throw new dev.unmask.env.UnmaskException("--reps must be at least 5, got " + reps);
        if (trainReps < 1) throw new dev.unmask.env.UnmaskException("--train-reps must be at least 1, got " + trainReps);
        for (String e : engines) if (!e.equals("fast")) Denoisers.Engine.parse(e);
        if (policyUpdate) {
            benchPolicyUpdate();
            return 0;
        }
        if (checkpoint != null) System.err.println(DllmLine.of(checkpoint, Checksums.sha256(Denoisers.weightsFile(checkpoint)), String.join(",", engines)));
        BuiltinDllm model = checkpoint == null ? new BuiltinDllm(DllmConfig.small(1), Vocabulary.builtin()) : DllmCheckpoint.load(checkpoint);
        System.out.printf("model %s, %,d parameters; OMP_NUM_THREADS=%s; medians of %d reps after each shape's warm-up (>= %d calls and %.0f s, until the median of 5 moves < 3%%)%n",
                model.describe(), model.parameterCount(), System.getenv("OMP_NUM_THREADS"), reps, WARM_MIN_CALLS, WARM_MIN_NANOS / 1e9);
        if (train) {
            System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of peak |");
            System.out.println("|---|---|---|---|---|---|");
            benchTraining(model);
            return 0;
        }
        double peak = gemmPeak(256, reps);
        double peakLarge = gemmPeak(1024, Math.max(5, reps / 4));
        for (String engine : engines) {
            dev.unmask.dllm.FastDllm fast = engine.equals("fast") ? dev.unmask.dllm.FastDllm.of(model) : null;
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
                double ms = warmThenMedian(reps, forward);
                double flops = forwardFlops(model.config(), model.vocabulary().size(), b, length);
                System.out.printf(Locale.ROOT, "| dLLM forward | %dx%d | %.2f | %.0f | %.2f | %.1f |%n", b, length, ms, b * length / ms * 1e3,
                        flops / ms / 1e6, 100 * flops / ms / 1e6 / peak);
            }
            if (ort != null) ort.close();
        }
        if (syntheticVocab > 0) benchLargeHead(model.config(), syntheticVocab);
        if (env) benchEnvironment(model);
        System.out.println("GFLOP/s counts the forward's matrix products (2 flops per multiply-add): projections, MLP, attention scores and mixing, embeddings, head; "
                + "the same count for every engine (ONNX Runtime and the fast forward gather embeddings instead of one-hot products, so theirs is an upper bound).");
        return 0;
    }

    private static OnnxDenoiser onnxOf(BuiltinDllm model) {
        return OnnxDenoiser.ofBuiltin(model.config(), model.vocabulary(), model.weights(), model.describe(), Path.of(model.describe()));
    }

    /**
     * One environment step's dLLM call (forward + per-position statistics of 8 masked positions
     * per row, what {@code UnmaskingEnv} asks for) on a model whose head has {@code vocab} tokens:
     * statistics computed in ONNX Runtime against logits copied to Java and reduced there.
     */
    private void benchLargeHead(DllmConfig arch, int vocab) {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < vocab; i++) tokens.add("t" + i);
        Vocabulary v = new Vocabulary(tokens, "t0", "t1", "t2");
        Random rng = new Random(11);
        Map<String, dev.unmask.env.io.Safetensors.Tensor> w = new TreeMap<>();
        new BuiltinDllm(arch, Vocabulary.builtin()).weights().forEach((name, t) -> {
            long[] shape = t.shape().clone();
            if (name.equals("embed.tokens")) shape[0] = vocab;
            if (name.startsWith("head.")) shape[shape.length - 1] = vocab;
            int size = 1;
            for (long x : shape) size *= (int) x;
            float[] data = new float[size];
            for (int i = 0; i < size; i++) data[i] = name.endsWith(".gain") ? 1f : (float) (0.05 * rng.nextGaussian());
            w.put(name, new dev.unmask.env.io.Safetensors.Tensor(shape, data));
        });

        System.out.println();
        System.out.printf(Locale.ROOT, "synthetic model: %s with a %,d-token vocabulary; one environment step = forward + statistics of 8 masked positions per row%n", arch.label(), vocab);
        System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of peak |");
        System.out.println("|---|---|---|---|---|---|");
        for (boolean inJava : new boolean[]{true, false}) {
            if (inJava) System.setProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY, "true");
            try (OnnxDenoiser d = OnnxDenoiser.ofBuiltin(arch, v, w, "synthetic head " + vocab, Path.of("synthetic-head"))) {
                for (int b : List.of(1, 8)) {
                    int[][] seqs = new int[b][length];
                    boolean[][] query = new boolean[b][length];
                    for (int r = 0; r < b; r++) {
                        for (int i = 0; i < length; i++) seqs[r][i] = 3 + rng.nextInt(vocab - 3);
                        for (int i = length - 8; i < length; i++) {
                            seqs[r][i] = v.maskId();
                            query[r][i] = true;
                        }
                    }
                    double ms = warmThenMedian(reps, () -> d.predict(seqs, query, false));
                    System.out.printf(Locale.ROOT, "| dLLM step, statistics in %s | %dx%d | %.2f | %.0f | | |%n", inJava ? "Java (logits copied)" : "ONNX Runtime",
                            b, length, ms, b * length / ms * 1e3);
                }
            } finally {
                System.clearProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY);
            }
        }
    }

    /**
     * One policy-gradient minibatch with each policyUpdate, the two and the GEMM peak measured in
     * turn within every repetition (as {@link #benchTraining}), medians after warm-up.
     */
    private void benchPolicyUpdate() {
        Path file = policyConfig != null ? policyConfig : dev.unmask.runs.Paths.home().resolve("configs/grpo-lag48-full-knob.yaml");
        dev.unmask.rollout.TrainConfig c = dev.unmask.runs.ConfigFiles.resolve(dev.unmask.rollout.TrainConfig.defaults(), file, List.of(),
                dev.unmask.rollout.TrainConfig.class);
        int rows = c.minibatch(), width = c.policyContext().equals("buffer") ? c.genLength() : c.blockLength();
        System.out.printf(Locale.ROOT, "policy d=%d, %d heads, FF %d, %d features, %s context; minibatch %d steps x %d positions; OMP_NUM_THREADS=%s; medians of %d reps%n",
                c.dModel(), c.heads(), c.ffDim(), c.features().size(), c.policyContext(), rows, width, System.getenv("OMP_NUM_THREADS"), trainReps);
        Map<String, Runnable> updates = new LinkedHashMap<>();
        for (String u : List.of("fast", "samediff")) updates.put(u, dev.unmask.rollout.PolicyUpdateTiming.oneGradient(c, u, rows, width));
        int inner = 20;
        Runnable nd4jGemm = gemm256(inner);
        for (int w = 0; w < 3; w++) {
            updates.values().forEach(Runnable::run);
            nd4jGemm.run();
        }
        double[] gemmMs = new double[trainReps];
        Map<String, double[]> ms = new LinkedHashMap<>();
        updates.keySet().forEach(u -> ms.put(u, new double[trainReps]));
        for (int r = 0; r < trainReps; r++) {
            gemmMs[r] = median(1, nd4jGemm) / inner;
            for (var e : updates.entrySet()) {
                System.gc(); // SameDiff's dead off-heap buffers: collected before, not on the next clock
                ms.get(e.getKey())[r] = median(1, e.getValue());
            }
        }
        Arrays.sort(gemmMs);
        double peak = 2.0 * 256 * 256 * 256 / gemmMs[trainReps / 2] / 1e6, flops = dev.unmask.rollout.PolicyUpdateTiming.flopsPerGradient(c, rows, width);
        System.out.println("| what | shape | median ms | positions/s | GFLOP/s | % of peak |");
        System.out.println("|---|---|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        double base = Double.NaN;
        for (var e : ms.entrySet()) {
            double[] m = e.getValue();
            Arrays.sort(m);
            double med = m[trainReps / 2];
            if (e.getKey().equals("samediff")) base = med;
            System.out.printf(Locale.ROOT, "| policy gradient (%s) | %dx%d | %.1f | %.0f | %.2f | %.1f |%n", e.getKey(), rows, width, med,
                    rows * width / med * 1e3, flops / med / 1e6, 100 * flops / med / 1e6 / peak);
        }
        System.out.printf(Locale.ROOT, "fast is %.2fx samediff's speed. GFLOP/s counts the matrix products (forward: embedding, projections, MLP, attention, head; backward as twice the forward).%n",
                base / ms.get("fast")[trainReps / 2]);
    }

    /**
     * Decodes arithmetic prompts with LLaDA top-k at one token per step (so every episode does
     * exactly L steps and the work is the same whatever the model's weights) at several batch sizes.
     * Batch 1 is "the same episodes one by one".
     */
    private void benchEnvironment(BuiltinDllm builtin) {
        try (OnnxDenoiser model = onnxOf(builtin)) {
            benchEnvironment(model);
        }
    }

    private void benchEnvironment(Denoiser model) {
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
        dev.unmask.nn.OffHeapFloats[] blas = {new dev.unmask.nn.OffHeapFloats(256 * 256), new dev.unmask.nn.OffHeapFloats(256 * 256),
                new dev.unmask.nn.OffHeapFloats(256 * 256)};
        for (int i = 0; i < 256 * 256; i++) {
            blas[0].set(i, (float) Math.random());
            blas[1].set(i, (float) Math.random());
        }
        int inner = 20;
        Runnable nd4jGemm = gemm256(inner);
        Runnable blasGemm = () -> {
            for (int i = 0; i < inner; i++) dev.unmask.nn.Blas.gemm(false, false, 256, 256, 256, 1f, blas[0], 0, 256, blas[1], 0, 256, 0f, blas[2], 0, 256);
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
        // the fast trainer alone, step after step as a training run (and the PyTorch reference) runs it: no GC
        // and no SameDiff step in between to evict its buffers from the caches
        double[] consecutive = new double[trainReps];
        DllmTrainer fast = trainers.get(DllmTrainer.Kind.FAST);
        for (int w = 0; w < 3; w++) fast.trainStep();
        for (int r = 0; r < trainReps; r++) consecutive[r] = median(1, fast::trainStep);
        Arrays.sort(consecutive);
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
        double mc = consecutive[trainReps / 2];
        System.out.printf(Locale.ROOT, "| dLLM train step (fast, consecutive steps) | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", rows, len, mc,
                rows * len / mc * 1e3, flops / mc / 1e6, 100 * flops / mc / 1e6 / peak);
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

    /** {@code inner} products of two random 256 x 256 floats into a preallocated output: the peak the interleaved benches time beside their work. */
    private static Runnable gemm256(int inner) {
        INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256), b = Nd4j.rand(DataType.FLOAT, 256, 256);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{256, 256}, 'f');
        return () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        };
    }

    private static double gemmPeak(int size, int reps) {
        INDArray a = Nd4j.rand(DataType.FLOAT, size, size), b = Nd4j.rand(DataType.FLOAT, size, size);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{size, size}, 'f');
        int inner = size >= 1024 ? 2 : 50;
        double ms = warmThenMedian(reps, () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }) / inner;
        return 2.0 * size * size * size / ms / 1e6;
    }

    /**
     * Warms the body up (at least {@link #WARM_MIN_CALLS} calls and {@link #WARM_MIN_NANOS}, then
     * until the median of the last 5 calls moves by less than 3% from the 5 before, at most 60 s),
     * then returns the median of {@code reps} timed calls in ms. A single warm-up call times the JIT.
     */
    static double warmThenMedian(int reps, Runnable body) {
        long start = System.nanoTime();
        double previous = Double.NaN;
        for (int calls = 0; ; calls += 5) {
            double m = median(5, body);
            boolean settled = Math.abs(m - previous) < 0.03 * previous;
            previous = m;
            long spent = System.nanoTime() - start;
            if (calls >= WARM_MIN_CALLS && spent >= WARM_MIN_NANOS && settled) break;
            if (spent > 60_000_000_000L) break;
        }
        return median(reps, body);
    }

    static double median(int reps, Runnable body) {
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(t);
        return reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
    }
}
