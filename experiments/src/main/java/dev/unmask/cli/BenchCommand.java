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

    @Override
    public Integer call() {
        BuiltinDllm model = checkpoint == null ? new BuiltinDllm(DllmConfig.small(1), Vocabulary.builtin()) : DllmCheckpoint.load(checkpoint);
        System.out.printf("model %s, %,d parameters; OMP_NUM_THREADS=%s%n", model.describe(), model.parameterCount(), System.getenv("OMP_NUM_THREADS"));
        System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of gemm peak |");
        System.out.println("|---|---|---|---|---|---|");
        double peak = gemmPeak(256);
        double peakLarge = gemmPeak(1024);
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 1024x1024x1024 | | | %.1f | %.0f |%n", peakLarge, 100 * peakLarge / peak);
        Random rng = new Random(7);
        for (int b : batches) {
            int[][] seqs = new int[b][length];
            for (int[] s : seqs) for (int i = 0; i < length; i++) s[i] = 3 + rng.nextInt(model.vocabulary().size() - 3);
            model.logits(seqs); // warm-up: graph build, array cache
            double ms = median(reps, () -> model.logits(seqs));
            double flops = forwardFlops(model.config(), model.vocabulary().size(), b, length);
            System.out.printf(Locale.ROOT, "| dLLM forward | %dx%d | %.1f | %.0f | %.1f | %.0f |%n", b, length, ms, b * length / ms * 1e3,
                    flops / ms / 1e6, 100 * flops / ms / 1e6 / peak);
        }
        if (env) benchEnvironment(model);
        System.out.println("GFLOP/s counts the forward's matrix products (2 flops per multiply-add): projections, MLP, attention scores and mixing, embeddings, head.");
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
