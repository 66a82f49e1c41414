package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * What the trace tasks share (gcd, happy, revadd, fib, the lag family, ducci): a name, a
 * {@value #GEN_LENGTH}-token buffer, instances drawn by redrawing until one lands in the wanted
 * split and its trace fits the buffer, and an exact verifier (a trace is unique, so an answer is
 * right exactly when it is the trace). A task says how to draw one instance from its starts.
 */
public abstract class TraceTask implements Task {
    /** The buffer every trace task decodes into by default; one character of a trace is one token. */
    static final int GEN_LENGTH = 128;

    private final String name;

    TraceTask(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int defaultGenLength() {
        return GEN_LENGTH;
    }

    @Override
    public final Example sample(Split split, SplittableRandom rng) {
        return Task.inSplit(split, rng, this::draw);
    }

    /** Draws starts until one gives an instance. */
    private Example draw(SplittableRandom rng) {
        while (true) {
            Example e = drawOnce(rng);
            if (e != null) return e;
        }
    }

    /**
     * One start from the task's distribution, as its instance, or null when the start is to be
     * drawn again (its trace does not fit the buffer, or the task leaves such starts out).
     */
    abstract Example drawOnce(SplittableRandom rng);

    /** The instance of this task with this key, prompt and answer. */
    final Example example(String key, String prompt, String answer) {
        return new Example(name, key, prompt, answer);
    }

    /** Whether a trace fits the default buffer. */
    static boolean fits(String answer) {
        return answer.length() <= GEN_LENGTH;
    }

    /** The trace is unique, so an answer is right exactly when it is that trace. */
    @Override
    public final boolean isCorrect(Example example, String answerText) {
        return answerText.equals(example.answer());
    }
}
