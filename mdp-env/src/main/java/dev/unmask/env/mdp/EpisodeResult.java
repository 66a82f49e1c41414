package dev.unmask.env.mdp;

import dev.unmask.env.task.Example;

/** The outcome of one decoded prompt. */
public record EpisodeResult(Example example, int[] buffer, String answerText, boolean correct, int nfe,
                            int fallbacks, double reward) {
    public double tokensPerStep() {
        return (double) buffer.length / nfe;
    }
}
