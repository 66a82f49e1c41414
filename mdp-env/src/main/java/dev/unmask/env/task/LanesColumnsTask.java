package dev.unmask.env.task;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@link LanesTask}'s four lanes laid out as four columns, so that every dependency of a lane's
 * digit sits at the same offset for every lane and every prompt: a testbed task whose right order
 * of unmasking depends on the instance (each column is written from the end its sign names: top
 * down or bottom up), laid out to be learnable by a small model.
 *
 * <p>Prompt {@code <lanes-columns>+-+-,7510,2184,0395,4017=}: the four lanes' signs as a row, then
 * their four start digits as four rows of four, each column written in its lane's direction (a
 * {@code +} column top down x(0), x(1), x(2), x(3); a {@code -} column bottom up, so its rows read
 * x(3), x(2), x(1), x(0)). The answer is a grid of {@value #ROWS} rows of four cells, rows separated
 * by {@code ,}; column l holds lane l's whole sequence written from the end its sign names: the four
 * start digits (copied), then {@code lag}'s trace of them (x(t) = x(t-1) + x(t-4) mod 10 until a 0
 * right after an odd digit; {@link LaggedSumTask#shortAnswers()}), then {@code .} filler to the
 * column's other end. A {@code +} column starts at the top row, a {@code -} column at the bottom row.
 * Everything after the answer's last digit is left to the buffer's EOS padding.
 *
 * <p>Why this layout: with rows of five tokens (four cells and a separator), a {@code +} column's
 * cell depends on the cells 5 and 20 positions before it (its copies of the start digits on the
 * prompt's rows 20 before them; the stop, a 0 after an odd digit, on the cells 5 and 10 before it),
 * and a {@code -} column's on the cells 5 and 20 after it (its copies on the prompt's rows, 5 x
 * {@value #ROWS} = 125 positions before them, the same for every start digit because the prompt
 * writes a {@code -} column bottom up): the same offsets for every lane and every prompt, as
 * {@code ducci}'s rows make its offsets uniform. A model must still read each column's sign (row 1
 * of the prompt) to know which side its cells are computed from.
 *
 * <p>The order: a {@code +} column can only be written top down and a {@code -} column bottom up, so
 * which rows of the 128-token buffer hold the tokens a model can write first changes with the
 * prompt's 16 sign patterns: neither left to right nor right to left. Where each column's digits
 * stop and its filler begins is decided by the work (1 to {@value #MAX_TRACE} trace digits); the
 * answer is the full grid (124 tokens) whenever the bottom row holds a digit (a {@code -} lane, or
 * a {@code +} lane whose trace fills its column), and ends with the longest lane's last digit
 * otherwise (all four lanes {@code +}).
 *
 * <p>Instances: four signs and four starts uniform (key: the prompt's lanes in {@link LanesTask}'s
 * form {@code +7204-1193+5530-0817}, each lane's start digits in their natural order; 16 x 10^16
 * keys); a start whose trace does not fit its column (more than {@value #MAX_TRACE} digits, about a
 * third of starts) is drawn again. The verifier asks for the whole answer (it is unique).
 */
public final class LanesColumnsTask extends TraceTask {
    /** Lanes (columns) per answer. */
    public static final int LANES = 4;
    /** Rows of the answer grid: 5 x 25 - 1 = 124 tokens, within the 128-token buffer. */
    public static final int ROWS = 25;
    /** Start digits per lane (copied at the lane's end of its column). */
    static final int START = 4;
    /** The most trace digits a column holds. */
    public static final int MAX_TRACE = ROWS - START;
    /** Spacing of the step ids of consecutive lanes in {@link #stepOfEachToken}. */
    private static final int STEP_STRIDE = 64;
    /** The step id of every row separator: one no other token has, nor the step before it. */
    private static final int SEPARATOR_STEP = STEP_STRIDE * LANES + 1;

    private static final LaggedSumTask LAG = LaggedSumTask.shortAnswers();

    public LanesColumnsTask() {
        super("lanes-columns");
    }

    @Override
    Example drawOnce(SplittableRandom rng) {
        StringBuilder key = new StringBuilder();
        for (int lane = 0; lane < LANES; lane++) {
            key.append(rng.nextBoolean() ? '+' : '-');
            String start;
            do {
                start = String.format(Locale.ROOT, "%04d", rng.nextInt(10_000));
            } while (LAG.trace(start).length() > MAX_TRACE);
            key.append(start);
        }
        return example(key.toString(), prompt(key.toString()), answer(key.toString()));
    }

    private static void check(String body) {
        if (!body.matches("([+-][0-9]{4}){" + LANES + "}")) throw new IllegalArgumentException("lanes-columns needs " + LANES + " lanes of a direction and four digits, got '" + body + "'");
    }

    /** The prompt of a key such as {@code +7204-1193+5530-0817}: {@code <lanes-columns>+-+-,7510,2184,0395,4017=}. */
    public static String prompt(String body) {
        check(body);
        StringBuilder sb = new StringBuilder("<lanes-columns>");
        for (int lane = 0; lane < LANES; lane++) sb.append(body.charAt(5 * lane));
        for (int row = 0; row < START; row++) {
            sb.append(',');
            for (int lane = 0; lane < LANES; lane++) {
                boolean forward = body.charAt(5 * lane) == '+';
                sb.append(body.charAt(5 * lane + 1 + (forward ? row : START - 1 - row)));
            }
        }
        return sb.append('=').toString();
    }

    /** Lane l's column, in its own direction: its start digits, its trace, then filler ({@value #ROWS} cells). */
    private static String column(String body, int lane) {
        String start = body.substring(5 * lane + 1, 5 * lane + 5);
        String trace = LAG.trace(start);
        if (trace.length() > MAX_TRACE) throw new IllegalArgumentException("lane " + lane + " of '" + body + "' does not fit: " + trace.length() + " digits");
        return start + trace + ".".repeat(MAX_TRACE - trace.length());
    }

    /** The answer of a key such as {@code +7204-1193+5530-0817}. */
    public static String answer(String body) {
        check(body);
        String[] cols = new String[LANES];
        for (int lane = 0; lane < LANES; lane++) {
            String c = column(body, lane);
            cols[lane] = body.charAt(5 * lane) == '+' ? c : new StringBuilder(c).reverse().toString();
        }
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < ROWS; row++) {
            if (row > 0) sb.append(',');
            for (int lane = 0; lane < LANES; lane++) sb.append(cols[lane].charAt(row));
        }
        // everything after the last digit is the buffer's EOS padding: the answer ends where the work does
        int end = sb.length();
        while (!Character.isDigit(sb.charAt(end - 1))) end--;
        return sb.substring(0, end);
    }

    /** The cell of lane {@code lane} in row {@code row} of an answer, '.' past its end; package-private for tests. */
    static char cell(String answer, int row, int lane) {
        int at = 5 * row + lane;
        return at < answer.length() ? answer.charAt(at) : '.';
    }

    /**
     * The depth of the work: the longest lane's trace plus its stop (the filler after it, when the
     * column has room), the fewest forward passes a decoder that writes every computable token at
     * once would need (the copied start digits come with the first trace digit).
     */
    @Override
    public int steps(String answer) {
        int longest = 0;
        for (int lane = 0; lane < LANES; lane++) longest = Math.max(longest, traceLength(answer, lane));
        return Math.min(longest + 1, MAX_TRACE);
    }

    /** How many trace digits lane {@code lane}'s column holds (its digits less the four copied start digits). */
    private static int traceLength(String answer, int lane) {
        int digits = 0;
        for (int row = 0; row < ROWS; row++) if (Character.isDigit(cell(answer, row, lane))) digits++;
        return digits - START;
    }

    /**
     * Lane l's copied start digits are step {@code 64 l}; its trace digit k is step {@code 64 l + 1 + k}
     * (computed from the copies and the digits before it in its own column's direction); its filler
     * is the step after its last digit; row separators are a step of their own. So "the step before"
     * a token ({@code FailureCauses}) is the cell it is computed from in its own column.
     */
    @Override
    public int[] stepOfEachToken(String answer) {
        int[] out = new int[answer.length()];
        for (int lane = 0; lane < LANES; lane++) {
            boolean backward = isBackward(answer, lane);
            int digits = traceLength(answer, lane) + START;
            for (int row = 0; row < ROWS; row++) {
                int at = 5 * row + lane;
                if (at >= answer.length()) break;
                int k = backward ? ROWS - 1 - row : row; // index in the lane's own direction
                int step;
                if (k >= digits) step = STEP_STRIDE * lane + 1 + (digits - START);
                else if (k < START) step = STEP_STRIDE * lane;
                else step = STEP_STRIDE * lane + 1 + (k - START);
                out[at] = step;
            }
        }
        for (int i = 4; i < answer.length(); i += 5) out[i] = SEPARATOR_STEP;
        return out;
    }

    /** Whether lane {@code lane}'s column is written bottom up: its filler is on top, or (a full column) its cells follow the lag rule upwards. */
    private static boolean isBackward(String answer, int lane) {
        if (cell(answer, 0, lane) == '.') return true;
        if (cell(answer, ROWS - 1, lane) == '.') return false;
        // a full column: the rule x(t) = x(t-1) + x(t-4) holds downwards or upwards
        for (int row = START; row < ROWS; row++) {
            int x = cell(answer, row, lane) - '0', prev = cell(answer, row - 1, lane) - '0', lag = cell(answer, row - START, lane) - '0';
            if (x != (prev + lag) % 10) return true;
        }
        return false;
    }
}
