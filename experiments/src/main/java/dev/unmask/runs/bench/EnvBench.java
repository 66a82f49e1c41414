package dev.unmask.runs.bench;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;

import java.util.List;
import java.util.Locale;

/**
 * The batched environment against one-by-one episodes: decodes arithmetic prompts with LLaDA top-k
 * at one token per step (so every episode does exactly L steps and the work is the same whatever the
 * model's weights) at several batch sizes, the model in ONNX Runtime. Batch 1 is "the same episodes
 * one by one".
 */
public record EnvBench(BuiltinDllm builtin, List<Integer> envBatches) {
    public void run() {
        try (OnnxDenoiser model = ForwardBench.onnxOf(builtin)) {
            measure(model);
        }
    }

    private void measure(Denoiser model) {
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
}
