package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;

/**
 * Everything a policy-training run depends on. Defaults in {@link #defaults()}; every field can be
 * set from a config file or the command line.
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
 */
public record TrainConfig(String algorithm, String task, int genLength, int blockLength, int iterations, int promptsPerIteration,
                          int groupSize, int epochs, int minibatch, double learningRate, double clipEpsilon, double entropyCoef,
                          double valueCoef, double gamma, double gaeLambda, double klCoef, double maxGradNorm, double speedWeight,
                          long seed, int checkpointEvery, boolean shuffleRewards, int dModel, int heads, int ffDim,
                          java.util.List<String> features, double initUnmaskProb, boolean groupStdScaling) {
    public TrainConfig {
        if (!algorithm.equals("grpo") && !algorithm.equals("ppo")) throw new UnmaskException("algorithm must be grpo or ppo, got '" + algorithm + "'");
        if (iterations <= 0 || promptsPerIteration <= 0 || groupSize <= 0 || epochs <= 0 || minibatch <= 0) {
            throw new UnmaskException("iterations, promptsPerIteration, groupSize, epochs and minibatch must be positive");
        }
        if (algorithm.equals("grpo") && groupSize < 2) throw new UnmaskException("GRPO needs groupSize >= 2 (advantages are relative within a group)");
        if (!(learningRate > 0) || !(clipEpsilon > 0)) throw new UnmaskException("learningRate and clipEpsilon must be positive");
        if (!(initUnmaskProb > 0 && initUnmaskProb < 1)) throw new UnmaskException("initUnmaskProb must be in (0, 1), got " + initUnmaskProb);
        if (genLength <= 0 || blockLength <= 0 || genLength % blockLength != 0) {
            throw new UnmaskException("block length " + blockLength + " does not divide the buffer length " + genLength);
        }
    }

    public static TrainConfig defaults() {
        return new TrainConfig("grpo", "sudoku", 32, 32, 60, 16, 8, 2, 256, 3e-3, 0.2, 0.001, 0.5, 1.0, 0.95, 0.0, 1.0, 0.5,
                1, 10, false, 32, 2, 64, java.util.List.of("confidence"), 0.1, false);
    }
}
