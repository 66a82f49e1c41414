package dev.unmask.env.eval;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/** Decodes a set of prompts under a policy, in batches, and summarises them as an {@link EvalRow}. */
public final class Evaluator {
    private Evaluator() {
    }

    public record Outcome(EvalRow row, List<EpisodeResult> episodes) {
    }

    /** Draws n prompts of the split with the seed, then decodes them. */
    public static Outcome evaluate(Denoiser dllm, Task task, int genLength, int blockLength, UnmaskPolicy policy,
                                   Split split, long seed, int n, int batchSize, IntConsumer progress) {
        return evaluate(dllm, task, genLength, blockLength, policy, task.dataset(split, seed, n), split, batchSize, seed, progress);
    }

    /** @param split the split the examples were drawn from, for the row's label */
    public static Outcome evaluate(Denoiser dllm, Task task, int genLength, int blockLength, UnmaskPolicy policy,
                                   List<Example> examples, Split split, int batchSize, long seed, IntConsumer progress) {
        long start = System.nanoTime();
        UnmaskingEnv env = new UnmaskingEnv(dllm, task, genLength, blockLength, 0.0, Reward.DEFAULT);
        List<EpisodeResult> all = new ArrayList<>();
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<Example> chunk = examples.subList(from, Math.min(examples.size(), from + batchSize));
            all.addAll(env.run(chunk, seed + from, policy));
            if (progress != null) progress.accept(all.size());
        }
        long wallMs = (System.nanoTime() - start) / 1_000_000;
        return new Outcome(summarise(all, task.name(), genLength, blockLength, policy, dllm.describe(), seed, split, wallMs), all);
    }

    public static EvalRow summarise(List<EpisodeResult> eps, String task, int genLength, int blockLength, UnmaskPolicy policy,
                                    String dllm, long seed, Split split, long wallMs) {
        int n = eps.size(), correct = 0;
        long fallbacks = 0;
        double reward = 0, nfeSum = 0, tps = 0;
        int[] nfes = new int[n];
        for (int i = 0; i < n; i++) {
            EpisodeResult e = eps.get(i);
            if (e.correct()) correct++;
            nfes[i] = e.nfe();
            nfeSum += e.nfe();
            reward += e.reward();
            fallbacks += e.fallbacks();
        }
        Arrays.sort(nfes);
        double meanNfe = nfeSum / n;
        double[] ci = EvalRow.wilson(correct, n);
        String mode = blockLength == genLength ? "full" : "semi-ar";
        return new EvalRow(task, mode, blockLength, genLength, policy.name(), policy.label(), n, (double) correct / n, ci[0], ci[1],
                meanNfe, quantile(nfes, 0.1), quantile(nfes, 0.5), quantile(nfes, 0.9), genLength / meanNfe, reward / n,
                fallbacks, wallMs, dllm, seed, split.label(), null);
    }

    private static double quantile(int[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }
}
