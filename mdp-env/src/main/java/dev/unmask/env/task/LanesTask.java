package dev.unmask.env.task;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Four lanes, each written from the end the prompt names: a testbed task whose right order of
 * unmasking depends on the instance, neither left to right nor right to left.
 *
 * <p>Prompt {@code <lanes>+7204-1193+5530-0817=}: four lanes, each a direction and four start
 * digits. Each lane holds {@code lag}'s trace of its start digits (x(t) = x(t-1) + x(t-4) mod 10,
 * until a 0 right after an odd digit; {@link LaggedSumTask#shortAnswers()}). The answer is the four
 * lanes of {@value #WIDTH} positions each, separated by {@code |} (127 tokens in a 128-token buffer):
 * a {@code +} lane is its trace written left to right from the lane's left end, then {@code .} to
 * the lane's end; a {@code -} lane is its trace written right to left from the lane's right end, the
 * {@code .} before it; the filler at the very end of the answer (a last lane {@code +}) is left to
 * the buffer's EOS padding, so the answer ends where the last lane's work does (97 to 127 tokens):
 * <pre>{@code 1337814190.....................|.............078739144870617454|50.............................|..........................03657}</pre>
 * Within a lane each digit needs the one before it in the lane's direction (and the one four
 * before), so a {@code +} lane can only be written left to right and a {@code -} lane right to
 * left, and where each lane's digits stop and its filler begins is decided by the work (1 to
 * {@value #WIDTH} - 1 digits, the stop of {@code lag}; at least one {@code .} per lane, so a lane's direction shows in the answer too). Which ends of the buffer are the easy ones thus
 * changes from prompt to prompt (16 direction patterns): semi-AR blocks shorter than a lane must
 * commit a {@code -} lane's left end (usually filler, but not always) before the digits it depends
 * on, and a confidence rule that commits filler early cuts a long lane short at either end.
 *
 * <p>Instances: four directions and four starts uniform (key: the prompt's body, 16 x 10^16 keys);
 * a start whose trace would leave its lane no filler ({@value #WIDTH} digits or more, about 11% of starts) is
 * drawn again. The verifier asks for the whole answer (it is unique).
 */
public final class LanesTask extends TraceTask {
    /** Lanes per answer. */
    public static final int LANES = 4;
    /** Positions per lane (digits plus filler). */
    public static final int WIDTH = 31;
    /** Spacing of the step ids of consecutive lanes in {@link #stepOfEachToken}. */
    private static final int STEP_STRIDE = 64;

    private static final LaggedSumTask LAG = LaggedSumTask.shortAnswers();

    public LanesTask() {
        super("lanes");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        StringBuilder key = new StringBuilder();
        for (int lane = 0; lane < LANES; lane++) {
            key.append(rng.nextBoolean() ? '+' : '-');
            String start;
            do {
                start = String.format(Locale.ROOT, "%04d", rng.nextInt(10_000));
            } while (LAG.trace(start).length() >= WIDTH);
            key.append(start);
        }
        return example(key.toString(), "<lanes>" + key + "=", answer(key.toString()));
    }

    /** The answer of a prompt body such as {@code +7204-1193+5530-0817}. */
    public static String answer(String body) {
        if (!body.matches("([+-][0-9]{4}){" + LANES + "}")) throw new IllegalArgumentException("lanes needs " + LANES + " lanes of a direction and four digits, got '" + body + "'");
        StringBuilder sb = new StringBuilder();
        for (int lane = 0; lane < LANES; lane++) {
            if (lane > 0) sb.append('|');
            boolean forward = body.charAt(5 * lane) == '+';
            String trace = LAG.trace(body.substring(5 * lane + 1, 5 * lane + 5));
            if (trace.length() >= WIDTH) throw new IllegalArgumentException("lane " + lane + " of '" + body + "' does not fit: " + trace.length() + " digits");
            String fill = ".".repeat(WIDTH - trace.length());
            sb.append(forward ? trace + fill : fill + new StringBuilder(trace).reverse());
        }
        // the filler at the very end is the buffer's EOS padding: the answer ends where the work does
        int end = sb.length();
        while (sb.charAt(end - 1) == '.') end--;
        return sb.substring(0, end);
    }

    /**
     * The depth of the work: the longest lane's digits plus its stop (the filler after it), the
     * fewest forward passes a decoder that writes every computable token at once would need.
     */
    @Override
    public int steps(String answer) {
        int longest = 0;
        for (String lane : answer.split("\\|", -1)) longest = Math.max(longest, lane.replace(".", "").length());
        return longest + 1;
    }

    /**
     * Digit k of lane l's trace (k in the lane's own direction) is step {@code 64 l + 1 + k}; the
     * lane's filler is the step after its last digit; a separator is a step of its own. So "the step
     * before" a token ({@code FailureCauses}) is the digit it is computed from in its own lane.
     */
    @Override
    public int[] stepOfEachToken(String answer) {
        int[] out = new int[answer.length()];
        String[] lanes = answer.split("\\|", -1);
        int at = 0;
        for (int l = 0; l < lanes.length; l++) {
            String lane = lanes[l];
            int digits = lane.replace(".", "").length();
            boolean backward = !lane.isEmpty() && lane.charAt(0) == '.'; // every lane has filler: its trace is shorter than the lane
            for (int i = 0; i < lane.length(); i++) {
                int k;
                if (lane.charAt(i) == '.') k = digits;
                else k = backward ? lane.length() - 1 - i : i;
                out[at + i] = STEP_STRIDE * l + 1 + k;
            }
            at += lane.length();
            if (l + 1 < lanes.length) out[at++] = STEP_STRIDE * l + STEP_STRIDE - 1;
        }
        return out;
    }
}
