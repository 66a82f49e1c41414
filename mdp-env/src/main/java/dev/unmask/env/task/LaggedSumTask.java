package dev.unmask.env.task;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A lagged-Fibonacci digit generator run until a stop pattern, one digit per step. Two variants:
 * <ul>
 *   <li>{@code lag}: prompt {@code <lag>7204=}, x(t) = (x(t-1) + x(t-4)) mod 10 with the prompt's
 *   four digits as x(-4..-1), until a 0 right after an odd digit: {@code 1337814190}. Answers are
 *   short (1 to 106 tokens, median 13), most of the 128-token buffer is EOS.</li>
 *   <li>{@code lag5}: prompt {@code <lag5>72041}, x(t) = (x(t-1) + x(t-5)) mod 10 until a 0 right
 *   after a 9, the answer written straight after the start digits ({@code 8004533...}), so the
 *   rule reads the same at the first answer digit as at every later one. (With an "=" between
 *   them, a 0.1M-parameter model learned the rule inside the answer but not the five digits that
 *   read the prompt across the "=": models/README.md.) The stop comes about once in a hundred
 *   digits, so answers are long and spread over the whole buffer (1 to 128 tokens, median 37, a
 *   tenth longer than 96), and a 32-token block ends the answer with probability about 0.3
 *   whatever was written before it: a model that knows the task has no reason to be sure of an
 *   EOS it has not reached, except in a first pass over the whole buffer, where the tail of long
 *   answers is EOS for most prompts.</li>
 *   <li>{@code lag48}: {@code lag}'s rule and prompt ({@code <lag48>7204=}), but the stop counts only
 *   from the 48th digit on, so every answer fills at least 48 of the 128 tokens (49 to 128, median
 *   59, a tenth longer than 84): semi-AR blocks hold work, not EOS, while a first pass over the whole
 *   buffer is sure of EOS beyond where most answers have ended and has no way to tell which prompts
 *   go on (the minimum is the same for every prompt).</li>
 * </ul>
 * Each digit needs the digit before it, and where the answer ends is known only once the digits
 * are: the start digits give the length away no better than a guess.
 *
 * <p>Instances: start digits uniform (key: the digits; 10,000 starts for {@code lag}, 100,000 for
 * {@code lag5}); starts that never stop, or not within a 128-token buffer, are drawn again. The
 * verifier asks for the whole trace (it is unique).
 */
public final class LaggedSumTask extends TraceTask {
    /** What ends the trace: a 0 written right after a digit of this kind. */
    private enum Stop {
        ZERO_AFTER_ODD, ZERO_AFTER_NINE;

        boolean at(int previous, int digit) {
            return digit == 0 && (this == ZERO_AFTER_ODD ? previous % 2 == 1 : previous == 9);
        }
    }

    private final int lag;
    private final Stop stop;

    /** What separates the start digits from the answer: "=" for lag; nothing for lag5, whose answer continues the start digits. */
    private final String separator;

    /** Digits written before the stop pattern counts. */
    private final int minimumDigits;

    private LaggedSumTask(String name, int lag, Stop stop, String separator, int minimumDigits) {
        super(name);
        this.lag = lag;
        this.stop = stop;
        this.separator = separator;
        this.minimumDigits = minimumDigits;
    }

    /** {@code lag}: lag 4, stops at a 0 after an odd digit (short answers). */
    public static LaggedSumTask shortAnswers() {
        return new LaggedSumTask("lag", 4, Stop.ZERO_AFTER_ODD, "=", 0);
    }

    /** {@code lag48}: {@code lag}'s rule with at least 48 digits (answers fill most of the buffer). */
    public static LaggedSumTask atLeast48Digits() {
        return new LaggedSumTask("lag48", 4, Stop.ZERO_AFTER_ODD, "=", 48);
    }

    /** {@code lag5}: lag 5, stops at a 0 after a 9 (long answers spread over the buffer). */
    public static LaggedSumTask longAnswers() {
        return new LaggedSumTask("lag5", 5, Stop.ZERO_AFTER_NINE, "", 0);
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        String key = String.format(Locale.ROOT, "%0" + lag + "d", rng.nextInt((int) Math.pow(10, lag)));
        String answer = trace(key);
        if (!fits(answer)) return null;
        return example(key, "<" + name() + ">" + key + separator, answer);
    }

    /** The digits after the start digits up to the stop, or longer than the buffer when the stop does not come in time. */
    public String trace(String start) {
        if (!start.matches("[0-9]{" + lag + "}")) throw new IllegalArgumentException(name() + " needs " + lag + " start digits, got '" + start + "'");
        int[] x = new int[lag + GEN_LENGTH + 1];
        for (int i = 0; i < lag; i++) x[i] = start.charAt(i) - '0';
        StringBuilder sb = new StringBuilder();
        for (int t = lag; t < x.length; t++) {
            x[t] = (x[t - 1] + x[t - lag]) % 10;
            sb.append((char) ('0' + x[t]));
            if (sb.length() >= minimumDigits && stop.at(x[t - 1], x[t])) break;
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
}
