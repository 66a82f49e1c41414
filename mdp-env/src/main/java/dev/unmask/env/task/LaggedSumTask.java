package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * A lagged-Fibonacci digit generator, run until it writes a 0 right after an odd digit. Prompt
 * {@code <lag>7204=}, answer one digit per step, x(t) = (x(t-1) + x(t-4)) mod 10 with the
 * prompt's four digits as x(-4..-1):
 * <pre>{@code 1337814190}</pre>
 * Each digit needs the digit before it, and where the answer ends (1 to 106 tokens, median 13) is
 * known only once the digits are. One token per step, against {@link FibonacciTask}'s three.
 *
 * <p>Instances: four start digits uniform in 0000..9999 (key: the four digits); the 625 starts
 * that never stop (their digits stay even) and those whose answer would not fit a 128-token buffer
 * are drawn again. The verifier asks for the whole trace (it is unique).
 */
public final class LaggedSumTask implements Task {
    static final int GEN_LENGTH = 128;

    @Override
    public String name() {
        return "lag";
    }

    @Override
    public int defaultGenLength() {
        return GEN_LENGTH;
    }

    @Override
    public Example sample(Split split, SplittableRandom rng) {
        return Task.inSplit(split, rng, this::draw);
    }

    private Example draw(SplittableRandom rng) {
        while (true) {
            int start = rng.nextInt(10000);
            String key = String.format(java.util.Locale.ROOT, "%04d", start);
            String answer = trace(key);
            if (answer.length() > GEN_LENGTH) continue;
            return new Example(name(), key, "<lag>" + key + "=", answer);
        }
    }

    /** The digits after the four start digits up to the stop, or longer than the buffer when the stop does not come in time. */
    public static String trace(String start) {
        if (!start.matches("[0-9]{4}")) throw new IllegalArgumentException("the lagged sum needs four start digits, got '" + start + "'");
        int[] x = new int[4 + GEN_LENGTH + 1];
        for (int i = 0; i < 4; i++) x[i] = start.charAt(i) - '0';
        StringBuilder sb = new StringBuilder();
        for (int t = 4; t < x.length; t++) {
            x[t] = (x[t - 1] + x[t - 4]) % 10;
            sb.append((char) ('0' + x[t]));
            if (x[t] == 0 && x[t - 1] % 2 == 1) break;
        }
        return sb.toString();
    }

    /** One step per digit: the trace has no separators. */
    @Override
    public int steps(String answer) {
        return answer.length();
    }

    @Override
    public int[] stepOfEachToken(String answer) {
        int[] out = new int[answer.length()];
        for (int i = 0; i < out.length; i++) out[i] = i;
        return out;
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        return answerText.equals(example.answer());
    }
}
