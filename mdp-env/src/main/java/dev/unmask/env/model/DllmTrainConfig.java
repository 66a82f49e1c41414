package dev.unmask.env.model;

import dev.unmask.env.UnmaskException;

import java.util.List;

/**
 * Hyper-parameters of masked-diffusion training. Batches cycle through the tasks (one task per
 * batch); with probability {@code longBufferProb} a batch uses a buffer 16 or 32 tokens longer than
 * the task's default, so the model has seen EOS runs of many lengths and longer buffers work.
 *
 * <p>{@code shortestOfDraws} k > 1 trains on the shortest answer of k draws from the task, so the
 * training answers are shorter than the task's own (as an instruction-tuning corpus's answers are
 * shorter than a benchmark's long worked answers): the model's belief about where answers end is
 * then too early for the task's test prompts. 1 (or 0, in configs written before the key existed)
 * draws each example once.
 */
public record DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                              double clipNorm, long seed, int checkpointEvery, double longBufferProb, int shortestOfDraws) {
    public DllmTrainConfig {
        if (tasks == null || tasks.isEmpty()) throw new UnmaskException("dLLM training needs at least one task");
        if (steps <= 0 || batchSize <= 0 || learningRate <= 0) throw new UnmaskException("dLLM training needs positive steps, batch size and learning rate");
        if (longBufferProb < 0 || longBufferProb > 1) throw new UnmaskException("longBufferProb must lie in [0, 1]");
        if (shortestOfDraws < 0) throw new UnmaskException("shortestOfDraws must be >= 1, got " + shortestOfDraws);
        if (shortestOfDraws == 0) shortestOfDraws = 1;
    }

    /** Each example drawn once (every run before shortestOfDraws existed). */
    public DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                           double clipNorm, long seed, int checkpointEvery, double longBufferProb) {
        this(tasks, steps, batchSize, learningRate, warmupSteps, clipNorm, seed, checkpointEvery, longBufferProb, 1);
    }

    /** Learning rate at a step: linear warm-up, then cosine decay to a tenth. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) return learningRate * (step + 1) / warmupSteps;
        double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
        return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }
}
