package dev.unmask.env.model;

import dev.unmask.env.UnmaskException;

import java.util.List;

/**
 * Hyper-parameters of masked-diffusion training. Batches cycle through the tasks (one task per
 * batch); with probability {@code longBufferProb} a batch uses a buffer 16 or 32 tokens longer than
 * the task's default, so the model has seen EOS runs of many lengths and longer buffers work.
 */
public record DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                              double clipNorm, long seed, int checkpointEvery, double longBufferProb) {
    public DllmTrainConfig {
        if (tasks == null || tasks.isEmpty()) throw new UnmaskException("dLLM training needs at least one task");
        if (steps <= 0 || batchSize <= 0 || learningRate <= 0) throw new UnmaskException("dLLM training needs positive steps, batch size and learning rate");
        if (longBufferProb < 0 || longBufferProb > 1) throw new UnmaskException("longBufferProb must lie in [0, 1]");
    }

    /** Learning rate at a step: linear warm-up, then cosine decay to a tenth. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) return learningRate * (step + 1) / warmupSteps;
        double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
        return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }
}
