package dev.unmask.dllm;

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
 *
 * <p>{@code suffixMaskProb} p > 0: with probability p an example's mask also covers every answer
 * position from a cut drawn uniformly over the answer, on top of the usual random mask. Random
 * masks almost never hide a whole EOS tail while showing the text before it, yet that is what
 * semi-AR and careful decoding ask at the end of an answer ("is this EOS?", with everything to the
 * right still masked). Without it, two models of ducci (whose stop reads a whole row of zeros) had
 * not learnt where answers end after 30,000 steps; 6,000 steps with p = 0.5 taught it
 * (models/README.md). 0 (and configs written before the key existed) draws no cut and consumes no
 * random numbers for it, so older runs replay exactly.
 */
public record DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                              double clipNorm, long seed, int checkpointEvery, double longBufferProb, int shortestOfDraws,
                              double suffixMaskProb) {
    public DllmTrainConfig {
        if (tasks == null || tasks.isEmpty()) throw new UnmaskException("dLLM training needs at least one task");
        if (steps <= 0 || batchSize <= 0 || learningRate <= 0) throw new UnmaskException("dLLM training needs positive steps, batch size and learning rate");
        if (longBufferProb < 0 || longBufferProb > 1) throw new UnmaskException("longBufferProb must lie in [0, 1]");
        if (shortestOfDraws < 0) throw new UnmaskException("shortestOfDraws must be >= 1, got " + shortestOfDraws);
        if (shortestOfDraws == 0) shortestOfDraws = 1;
        if (!(suffixMaskProb >= 0 && suffixMaskProb <= 1)) throw new UnmaskException("suffixMaskProb must lie in [0, 1], got " + suffixMaskProb);
    }

    /** No suffix masks (every run before suffixMaskProb existed). */
    public DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                           double clipNorm, long seed, int checkpointEvery, double longBufferProb, int shortestOfDraws) {
        this(tasks, steps, batchSize, learningRate, warmupSteps, clipNorm, seed, checkpointEvery, longBufferProb, shortestOfDraws, 0.0);
    }

    /** Each example drawn once (every run before shortestOfDraws existed). */
    public DllmTrainConfig(List<String> tasks, int steps, int batchSize, double learningRate, int warmupSteps,
                           double clipNorm, long seed, int checkpointEvery, double longBufferProb) {
        this(tasks, steps, batchSize, learningRate, warmupSteps, clipNorm, seed, checkpointEvery, longBufferProb, 1, 0.0);
    }

    /** Learning rate at a step: linear warm-up, then cosine decay to a tenth. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) return learningRate * (step + 1) / warmupSteps;
        double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
        return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
    }
}
