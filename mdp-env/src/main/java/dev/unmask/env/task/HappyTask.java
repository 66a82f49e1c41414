package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * The digit-square map iterated to its stop: replace a number by the sum of the squares of its
 * digits until the value is 1 (a happy number) or 4 (every other start falls into the cycle
 * 4, 16, 37, 58, 89, 145, 42, 20, which holds 4). Prompt {@code <happy>4729=}, answer every value
 * after the start, then the number of steps after {@code >}:
 * <pre>{@code 150,26,40,16,37,58,89,145,42,20,4>11}</pre>
 * Each value is a function of the one before only, so value k cannot be written without the k - 1
 * before it; and the number of steps (1 to 15) follows no simple rule of the start's size or
 * digits (it depends on the digits as a multiset, through every later value): on 2,000 training
 * instances a linear fit on the prompt's size and value explains 1% of the variance of the length
 * ({@code results/testbed-design/}). Answers take 3 to 49 tokens of the 128-token buffer, the rest is
 * EOS.
 *
 * <p>Instances: a start uniform in 2..9999 other than 4 (key: the start). The verifier asks for the
 * whole trace; a right step count after a wrong trace does not count.
 */
public final class HappyTask extends TraceTask {
    /** Largest start. */
    public static final int MAX_START = 9999;

    public HappyTask() {
        super("happy");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        int start = 2 + rng.nextInt(MAX_START - 1);
        if (start == 4) return null; // already stopped: an empty trace
        String key = Integer.toString(start);
        return example(key, "<happy>" + key + "=", trace(start));
    }

    /** Sum of the squares of the decimal digits. */
    public static int digitSquareSum(int v) {
        int s = 0;
        for (; v > 0; v /= 10) s += (v % 10) * (v % 10);
        return s;
    }

    /** The values after {@code start} up to and including the first 1 or 4, then '>' and their count. */
    public static String trace(int start) {
        if (start < 1) throw new IllegalArgumentException("the digit-square trace needs a positive start, got " + start);
        StringBuilder sb = new StringBuilder();
        int steps = 0;
        int v = start;
        do {
            v = digitSquareSum(v);
            if (steps++ > 0) sb.append(',');
            sb.append(v);
        } while (v != 1 && v != 4);
        return sb.append('>').append(steps).toString();
    }
}
