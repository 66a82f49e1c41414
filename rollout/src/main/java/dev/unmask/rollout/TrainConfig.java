package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;
import dev.unmask.policy.PolicyFeatures;

import java.util.List;

/**
 * Everything a policy-training run depends on. Defaults in {@link #defaults()}; every field can be
 * set from a config file or the command line. Every field is checked here, so a bad value from a
 * file or {@code --set} fails with one line naming the key before anything is written.
 *
 * @param algorithm          "grpo" (group-relative advantages, no critic) or "ppo" (value head + GAE)
 * @param promptsPerIteration distinct training prompts per iteration
 * @param groupSize          rollouts per prompt (GRPO's group; PPO gets the same number of episodes)
 * @param shuffleRewards     control run: rewards are permuted across the batch before computing
 *                           advantages, so any gain cannot come from learning the task
 * @param initUnmaskProb     the untrained policy's unmask probability per position (sets the output
 *                           bias). At 0.5 a fresh policy unmasks half the buffer in one step, every
 *                           rollout is wrong, all rewards are 0 and GRPO has no signal to start from
 * @param groupStdScaling    GRPO: divide group-relative advantages by the group's reward spread (the
 *                           original GRPO). Off by default: when a whole group is correct, the spread
 *                           is only the small speed term, and dividing by it makes "be faster" as loud
 *                           as "be right"; measured here, the policy then trades accuracy for speed
 *                           until about one answer in seven is wrong (see results/README.md)
 * @param maxGradNorm        global gradient-norm clip; 0 turns clipping off
 * @param checkpointEvery    save trainer-state/ every this many iterations (and after the last)
 */
public record TrainConfig(String algorithm, String task, int genLength, int blockLength, int iterations, int promptsPerIteration,
                          int groupSize, int epochs, int minibatch, double learningRate, double clipEpsilon, double entropyCoef,
                          double valueCoef, double gamma, double gaeLambda, double klCoef, double maxGradNorm, double speedWeight,
                          long seed, int checkpointEvery, boolean shuffleRewards, int dModel, int heads, int ffDim,
                          List<String> features, double initUnmaskProb, boolean groupStdScaling) {
    public TrainConfig {
        if (!"grpo".equals(algorithm) && !"ppo".equals(algorithm)) throw new UnmaskException("algorithm must be grpo or ppo, got '" + algorithm + "'");
        if (task == null || task.isBlank()) throw new UnmaskException("task must be set");
        atLeast("genLength", genLength, 1);
        atLeast("blockLength", blockLength, 1);
        if (genLength % blockLength != 0) throw new UnmaskException("block length " + blockLength + " does not divide the buffer length " + genLength);
        atLeast("iterations", iterations, 1);
        atLeast("promptsPerIteration", promptsPerIteration, 1);
        atLeast("groupSize", groupSize, 1);
        if (algorithm.equals("grpo") && groupSize < 2) throw new UnmaskException("GRPO needs groupSize >= 2 (advantages are relative within a group), got " + groupSize);
        atLeast("epochs", epochs, 1);
        atLeast("minibatch", minibatch, 1);
        positive("learningRate", learningRate);
        openUnit("clipEpsilon", clipEpsilon);
        nonNegative("entropyCoef", entropyCoef);
        nonNegative("valueCoef", valueCoef);
        closedUnit("gamma", gamma);
        closedUnit("gaeLambda", gaeLambda);
        nonNegative("klCoef", klCoef);
        nonNegative("maxGradNorm", maxGradNorm);
        closedUnit("speedWeight", speedWeight);
        atLeast("checkpointEvery", checkpointEvery, 1);
        atLeast("dModel", dModel, 2);
        atLeast("heads", heads, 1);
        atLeast("ffDim", ffDim, 1);
        if (dModel % heads != 0) throw new UnmaskException("dModel " + dModel + " is not divisible by heads " + heads);
        if (dModel % 2 != 0) throw new UnmaskException("dModel must be even (sinusoidal position encoding), got " + dModel);
        if (features == null) throw new UnmaskException("features must list at least one policy feature");
        PolicyFeatures.parse(features);
        features = List.copyOf(features);
        openUnit("initUnmaskProb", initUnmaskProb);
    }

    private static void atLeast(String key, int value, int min) {
        if (value < min) throw new UnmaskException(key + " must be >= " + min + ", got " + value);
    }

    private static void positive(String key, double value) {
        if (!(value > 0) || !Double.isFinite(value)) throw new UnmaskException(key + " must be a finite number > 0, got " + value);
    }

    private static void nonNegative(String key, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) throw new UnmaskException(key + " must be a finite number >= 0, got " + value);
    }

    private static void openUnit(String key, double value) {
        if (!(value > 0 && value < 1)) throw new UnmaskException(key + " must lie in (0, 1), got " + value);
    }

    private static void closedUnit(String key, double value) {
        if (!(value >= 0 && value <= 1)) throw new UnmaskException(key + " must lie in [0, 1], got " + value);
    }

    public static TrainConfig defaults() {
        return new TrainConfig("grpo", "sudoku", 32, 32, 60, 16, 8, 2, 256, 3e-3, 0.2, 0.001, 0.5, 1.0, 0.95, 0.0, 1.0, 0.5,
                1, 10, false, 32, 2, 64, List.of("confidence"), 0.1, false);
    }
}
