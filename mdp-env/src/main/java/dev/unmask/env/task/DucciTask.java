package dev.unmask.env.task;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Ducci sequences of eight digits: each row is the absolute differences of neighbours in the row
 * before, read as a ring, until a row is all zeros. Prompt {@code <ducci>31415926,}, answer the
 * rows after it, comma separated, up to and including the first row of zeros:
 * <pre>{@code 23344743,10103311,11130200,00232201,02110211,21012101,11111111,00000000}</pre>
 * Digit i of a row is |x(i) - x(i+1 mod 8)| of the row before, so a row cannot be written before
 * the one above it, while the eight digits of one row can be written together: a policy that
 * unmasks a row per forward pass needs one pass per row, not per token. Eight is a power of two,
 * so every start reaches the zero row; how many rows that takes (3 to 14 here) is decided by the
 * work, not by anything the prompt shows (its length is fixed). The lengths bunch more than
 * {@code fib}'s or {@code lag}'s: 8 rows for about 41% of starts, 7 for 16%, 10 to 14 for a third.
 *
 * <p>This is a second task family beside the digit recurrences of {@link LaggedSumTask}: a vector
 * state updated by one local rule (a subtraction, not a sum), and a stop that reads a whole row.
 *
 * <p>Instances: eight start digits uniform (key: the digits; 10^8 starts); the about 8% whose
 * answer would not fit a 128-token buffer (15 rows or more) are drawn again, as are the starts
 * that are already all zeros. The verifier asks for the whole trace (it is unique).
 */
public final class DucciTask extends TraceTask {
    static final int WIDTH = 8;

    public DucciTask() {
        super("ducci");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        String key = String.format(Locale.ROOT, "%08d", rng.nextInt(100_000_000));
        if (key.equals("00000000")) return null;
        String answer = trace(key);
        if (!fits(answer)) return null;
        return example(key, "<ducci>" + key + ",", answer);
    }

    /** The rows after the start up to and including the first row of zeros, or longer than the buffer when it does not come in time. */
    public static String trace(String start) {
        if (!start.matches("[0-9]{" + WIDTH + "}")) throw new IllegalArgumentException("ducci needs " + WIDTH + " start digits, got '" + start + "'");
        int[] row = new int[WIDTH];
        for (int i = 0; i < WIDTH; i++) row[i] = start.charAt(i) - '0';
        StringBuilder sb = new StringBuilder();
        while (sb.length() <= GEN_LENGTH) {
            int[] next = new int[WIDTH];
            boolean allZero = true;
            for (int i = 0; i < WIDTH; i++) {
                next[i] = Math.abs(row[i] - row[(i + 1) % WIDTH]);
                allZero &= next[i] == 0;
            }
            if (sb.length() > 0) sb.append(',');
            for (int d : next) sb.append((char) ('0' + d));
            if (allZero) break;
            row = next;
        }
        return sb.toString();
    }
}
