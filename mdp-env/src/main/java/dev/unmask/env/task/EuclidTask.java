package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * Euclid's algorithm written out: prompt {@code <gcd>987,610=}, answer one division per step,
 * {@code dividend=quotient*divisor+remainder}, until the remainder is 0, then the gcd after
 * {@code >}:
 * <pre>{@code 84=2*36+12,36=3*12+0>12}</pre>
 * The dividend and divisor of each step are the divisor and remainder of the step before, so no
 * step can be written before the one it follows. The number of steps (1 to 12 within the buffer) is
 * the length of the continued fraction of a/b, decided by the divisions themselves far more than by
 * the size of the numbers: on 2,000 training instances a linear fit on the prompt's digit counts and
 * log values explains 27% of the variance of the step count and 38% of that of the token count, and
 * leaves the end of the answer uncertain by 16 tokens (root-mean-square; {@code results/testbed-design/}).
 *
 * <p>Instances: a uniform in 2..999, b uniform in 1..a-1 (each pair once, key {@code a,b}). The
 * longest trace takes 152 tokens; the 107 pairs (of 498,501) whose answer would not fit the
 * 128-token buffer are drawn again. The verifier asks for the whole trace: a right gcd after a
 * wrong or cut-short trace does not count, since the gcd alone is a guess away (it is 1 for 61% of
 * the pairs).
 */
public final class EuclidTask extends TraceTask {
    /** Largest first operand. */
    public static final int MAX_DIVIDEND = 999;

    public EuclidTask() {
        super("gcd");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        int a = 2 + rng.nextInt(MAX_DIVIDEND - 1);
        int b = 1 + rng.nextInt(a - 1);
        String answer = trace(a, b);
        // one character per token: every character of the trace is a single built-in token
        if (!fits(answer)) return null;
        String key = a + "," + b;
        return example(key, "<gcd>" + key + "=", answer);
    }

    /** The worked trace of gcd(a, b) for a > b >= 1, with the gcd after '>'. */
    public static String trace(int a, int b) {
        if (b < 1 || a <= b) throw new IllegalArgumentException("Euclid's trace needs a > b >= 1, got " + a + "," + b);
        StringBuilder sb = new StringBuilder();
        while (b != 0) {
            if (sb.length() > 0) sb.append(',');
            int q = a / b, r = a % b;
            sb.append(a).append('=').append(q).append('*').append(b).append('+').append(r);
            a = b;
            b = r;
        }
        return sb.append('>').append(a).toString();
    }
}
