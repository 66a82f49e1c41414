package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.io.Checksums;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.runs.bench.ClaimBench;
import dev.unmask.runs.bench.EnvBench;
import dev.unmask.runs.bench.ForeignDllmBench;
import dev.unmask.runs.bench.ForwardBench;
import dev.unmask.runs.bench.PolicyUpdateBench;
import dev.unmask.runs.bench.SyntheticVocabBench;
import dev.unmask.runs.bench.Timing;
import dev.unmask.runs.bench.TrainStepBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Speed is measured here, never asserted in tests. Prints the dLLM forward throughput and its
 * achieved GFLOP/s next to Nd4j.gemm's peak measured in the same process, so the ratio is
 * meaningful even on a noisy machine. Each measurement is a class of {@code dev.unmask.runs.bench}:
 * the forward pass per engine, and behind flags the training step, the policy update, the
 * environment and a synthetic large vocabulary.
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

    @Option(names = "--foreign-dllm", description = "Measure a dLLM brought as ONNX instead (an export folder or its descriptor.json, e.g. models/foreign-llada-shape "
            + "from scripts/make-foreign-dllm.py): the step time and memory (Java heap, RSS, ONNX Runtime's native share) of the first step of full diffusion, "
            + "every masked position's statistics, at each --foreign-batches.")
    Path foreignDllm;
    @Option(names = "--foreign-batches", split = ",", defaultValue = "1,8", description = "Rows per step for --foreign-dllm (default: ${DEFAULT-VALUE}).")
    List<Integer> foreignBatches;
    @Option(names = "--foreign-buffer", defaultValue = "1024", description = "Masked positions after each prompt for --foreign-dllm (default: ${DEFAULT-VALUE}).")
    int foreignBuffer;
    @Option(names = "--foreign-task", defaultValue = "arith", description = "Task whose held-out prompts open the rows for --foreign-dllm (default: ${DEFAULT-VALUE}).")
    String foreignTask;
    @Option(names = "--foreign-reps", defaultValue = "5", description = "Timed steps per batch for --foreign-dllm after one warm-up step; the median is reported (default: ${DEFAULT-VALUE}).")
    int foreignReps;

    @Option(names = "--train", description = "Measure a training step (batch, forward, backward, Adam) with both trainers instead of the forward pass, "
            + "interleaved with the GEMM peak.")
    boolean train;
    @Option(names = "--train-batch", defaultValue = "48", description = "Sequences per training step (Sudoku: 53 tokens each).") int trainBatch;
    @Option(names = "--train-reps", defaultValue = "20") int trainReps;
    @Option(names = "--policy-update", description = "Measure the policy's update instead (one minibatch's forward and backward through the clipped "
            + "objective) with each policyUpdate setting (fast and fast-eligible on one thread and on UNMASK_UPDATE_THREADS threads, samediff), interleaved with the GEMM peak, on a random minibatch of --policy-config's shape.")
    boolean policyUpdate;
    @Option(names = "--policy-config", description = "Training config whose policy and minibatch to measure (default: configs/grpo-lag48-full-knob.yaml's "
            + "shape: 5 features, the whole 128-token buffer, minibatch 256).") Path policyConfig;

    @Option(names = "--claims", paramLabel = "DIR", description = "Measure instead what sharing a sweep's cells costs per cell on DIR's filesystem "
            + "(point it at the shared disk of a cluster): claim and release, a heartbeat, the scan for the next cell (in a scratch folder inside DIR, removed after).")
    Path claims;
    @Option(names = "--claim-cells", defaultValue = "500", description = "Cells of the sweep whose result files --claims scans (default: ${DEFAULT-VALUE}).")
    int claimCells;

    @Override
    public Integer call() {
        if (reps < 5) throw new UnmaskException("--reps must be at least 5, got " + reps);
        if (trainReps < 1) throw new UnmaskException("--train-reps must be at least 1, got " + trainReps);
        for (String e : engines) if (!e.equals("fast")) Denoisers.Engine.parse(e);
        if (claims != null) {
            new ClaimBench(claims, claimCells, reps).run();
            return 0;
        }
        if (foreignDllm != null) {
            if (train || policyUpdate || env || syntheticVocab > 0 || checkpoint != null) {
                throw new UnmaskException("--foreign-dllm measures a dLLM of its own; leave out --dllm, --train, --policy-update, --env and --synthetic-vocab");
            }
            new ForeignDllmBench(foreignDllm, foreignBatches, foreignBuffer, foreignTask, foreignReps).run();
            return 0;
        }
        if (policyUpdate) {
            new PolicyUpdateBench(policyConfig, trainReps).run();
            return 0;
        }
        if (checkpoint != null) System.err.println(DllmLine.of(checkpoint, Checksums.sha256(Denoisers.weightsFile(checkpoint)), String.join(",", engines)));
        BuiltinDllm model = checkpoint == null ? new BuiltinDllm(DllmConfig.small(1), Vocabulary.builtin()) : DllmCheckpoint.load(checkpoint);
        System.out.printf("model %s, %,d parameters; OMP_NUM_THREADS=%s; medians of %d reps after each shape's warm-up (>= %d calls and %.0f s, until the median of 5 moves < 3%%)%n",
                model.describe(), model.parameterCount(), System.getenv("OMP_NUM_THREADS"), reps, Timing.WARM_MIN_CALLS, Timing.WARM_MIN_NANOS / 1e9);
        if (train) {
            new TrainStepBench(model, trainBatch, trainReps).run();
            return 0;
        }
        new ForwardBench(model, engines, batches, length, reps).run();
        if (syntheticVocab > 0) new SyntheticVocabBench(model.config(), syntheticVocab, length, reps).run();
        if (env) new EnvBench(model, envBatches).run();
        System.out.println("GFLOP/s counts the forward's matrix products (2 flops per multiply-add): projections, MLP, attention scores and mixing, embeddings, head; "
                + "the same count for every engine (ONNX Runtime and the fast forward gather embeddings instead of one-hot products, so theirs is an upper bound).");
        return 0;
    }
}
