package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * Reverse and add until a palindrome: add a number to its digit reversal, and again, until the sum
 * reads the same both ways. Prompt {@code <revadd>87=}, answer every sum, then the number of steps
 * after {@code >}:
 * <pre>{@code 165,726,1353,4884>4}</pre>
 * Each sum is the previous one plus its mirror image, so its digits depend on digits at both ends
 * of the number before, through the carries: no step can be written before the one it follows, and,
 * unlike {@link HappyTask} whose values fall into a few hundred after the first step, the state keeps
 * growing, so the iterates cannot be looked up. Whether a sum is a palindrome depends on its carries,
 * so the step count (2 to 15 within the buffer) is not a simple function of the start: on 2,000
 * training instances a linear fit on the prompt's size and value explains a few per cent of the
 * variance of the length ({@code results/testbed-design/}).
 *
 * <p>Instances: a start uniform in 10..99999 that is not itself a palindrome (key: the start), takes
 * at least two steps and whose trace fits the 128-token buffer; the others are drawn again. That
 * leaves 73,067 of the 98,901 non-palindromes: 10,698 do not fit (the sums of 196 may never become
 * palindromes; most of the others grow past the buffer on the way), and 15,136 reach a palindrome
 * in one step, which the start's mirrored digit pairs give away. The verifier asks for the whole
 * trace.
 */
public final class ReverseAddTask extends TraceTask {
    /** Smallest and largest start. */
    public static final int MIN_START = 10, MAX_START = 99_999;

    public ReverseAddTask() {
        super("revadd");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        String start = Integer.toString(MIN_START + rng.nextInt(MAX_START - MIN_START + 1));
        if (isPalindrome(start)) return null; // nothing to do
        String answer = trace(start, GEN_LENGTH);
        // one-step starts are left out: whether the first sum is a palindrome can be read off the
        // start's digits (its mirrored digit pairs), so their length would be given away
        if (answer == null || answer.endsWith(">1")) return null;
        return example(start, "<revadd>" + start + "=", answer);
    }

    static boolean isPalindrome(String digits) {
        for (int i = 0, j = digits.length() - 1; i < j; i++, j--) if (digits.charAt(i) != digits.charAt(j)) return false;
        return true;
    }

    /** The decimal sum of a number and its digit reversal (any length: the values outgrow a long). */
    public static String addReversal(String digits) {
        int n = digits.length();
        char[] out = new char[n + 1];
        int carry = 0;
        for (int i = n - 1; i >= 0; i--) {
            int s = (digits.charAt(i) - '0') + (digits.charAt(n - 1 - i) - '0') + carry;
            out[i + 1] = (char) ('0' + s % 10);
            carry = s / 10;
        }
        out[0] = (char) ('0' + carry);
        return carry == 0 ? new String(out, 1, n) : new String(out);
    }

    /**
     * The sums up to the first palindrome, then '>' and their count; null when the trace would be
     * longer than {@code maxChars} (one character is one token).
     */
    public static String trace(String start, int maxChars) {
        if (!start.matches("[1-9]\\d*")) throw new IllegalArgumentException("reverse-and-add needs a positive decimal start, got " + start);
        StringBuilder sb = new StringBuilder();
        String v = start;
        int steps = 0;
        do {
            v = addReversal(v);
            if (steps++ > 0) sb.append(',');
            sb.append(v);
            if (sb.length() > maxChars) return null;
        } while (!isPalindrome(v));
        sb.append('>').append(steps);
        return sb.length() > maxChars ? null : sb.toString();
    }
}
