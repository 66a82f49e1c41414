package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * Two-digit Fibonacci numbers mod 100, run until one falls below 10. Prompt {@code <fib>37,05=},
 * answer every later value as two digits, comma separated, up to and including the first value
 * below 10:
 * <pre>{@code 42,47,89,36,25,61,86,47,33,80,13,93,06}</pre>
 * Value k is (value k-1 + value k-2) mod 100, so it cannot be written before the two values
 * before it; where the answer ends (2 to 128 tokens, median 20) is known only once the values
 * are: the prompt's two numbers give it away no better than a guess ({@code results/testbed/}).
 * Every step is one two-digit addition with one carry, a simpler step than the division and
 * digit squares of {@link EuclidTask} and {@link HappyTask} (the shipped dLLMs that learned sums
 * modulo 10 needed tens of thousands of training steps: {@code results/dllm-probe/arith-chain/}).
 *
 * <p>Instances: both start values uniform in 00..99 (key: {@code a,b}); the 76 of 10,000 starts
 * whose answer would not fit a 128-token buffer are drawn again. The verifier asks for the whole
 * trace (it is unique).
 */
public final class FibonacciTask extends TraceTask {
    public FibonacciTask() {
        super("fib");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        int a = rng.nextInt(100), b = rng.nextInt(100);
        String answer = trace(a, b);
        if (!fits(answer)) return null;
        String key = twoDigits(a) + "," + twoDigits(b);
        return example(key, "<fib>" + key + "=", answer);
    }

    private static String twoDigits(int v) {
        return v < 10 ? "0" + v : Integer.toString(v);
    }

    /** The values after a and b up to and including the first below 10, or longer than the buffer when none comes in time. */
    public static String trace(int a, int b) {
        if (a < 0 || a > 99 || b < 0 || b > 99) throw new IllegalArgumentException("start values must be in 0..99, got " + a + "," + b);
        StringBuilder sb = new StringBuilder();
        int previous = a, current = b;
        while (sb.length() <= GEN_LENGTH) {
            int next = (previous + current) % 100;
            if (sb.length() > 0) sb.append(',');
            sb.append(twoDigits(next));
            if (next < 10) break;
            previous = current;
            current = next;
        }
        return sb.toString();
    }
}
