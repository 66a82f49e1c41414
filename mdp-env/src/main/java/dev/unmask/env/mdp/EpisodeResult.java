package dev.unmask.env.mdp;

import dev.unmask.env.task.Example;

/**
 * The outcome of one decoded prompt. {@code fallbacks}: steps where the policy's rule chose nothing
 * and a single position was unmasked anyway, by the environment or by the policy itself.
 * {@code unmaskedAtStep}: for each buffer position, the step (1..nfe) that wrote it.
 */
public record EpisodeResult(Example example, int[] buffer, String answerText, boolean correct, int nfe,
                            int fallbacks, double reward, int[] unmaskedAtStep) {
    public double tokensPerStep() {
        return (double) buffer.length / nfe;
    }
}
