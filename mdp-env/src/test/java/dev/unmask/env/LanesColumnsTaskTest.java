package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.LaggedSumTask;
import dev.unmask.env.task.LanesColumnsTask;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/** The testbed task {@code lanes-columns}: {@code lanes}' four lag traces as four columns, each written from the end its sign names. */
class LanesColumnsTaskTest {
    private final Task task = Tasks.byName("lanes-columns");
    private static final LaggedSumTask LAG = LaggedSumTask.shortAnswers();

    /** Column {@code lane} of an answer read top down (25 cells, '.' past the answer's end). */
    private static String column(String answer, int lane) {
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < LanesColumnsTask.ROWS; row++) {
            int at = 5 * row + lane;
            sb.append(at < answer.length() ? answer.charAt(at) : '.');
        }
        return sb.toString();
    }

    @Test
    void theExampleOfTheJavadoc() {
        assertEquals("<lanes-columns>+-+-,7357,2951,0138,4100=", LanesColumnsTask.prompt("+7204-1193+5530-0817"));
        String a = LanesColumnsTask.answer("+7204-1193+5530-0817");
        assertEquals(124, a.length());
        String[] rows = a.split(",", -1);
        assertEquals(25, rows.length);
        assertEquals(List.of("7.5.", "2.5.", "0.3.", "400.", "175.", "380."), Arrays.asList(rows).subList(0, 6));
        assertEquals(List.of(".1.0", ".7.3", ".4.6", ".5.5", ".4.7", ".3.7", ".9.1", ".1.8", ".1.0"), Arrays.asList(rows).subList(16, 25));
        // column 0 (+): the start digits, lag's trace, filler; column 1 (-): the same, read bottom up
        assertEquals("7204" + "1337814190" + ".".repeat(11), column(a, 0));
        assertEquals("1193" + LAG.trace("1193"), new StringBuilder(column(a, 1)).reverse().toString().replace(".", ""));
        assertEquals("5530" + "50" + ".".repeat(19), column(a, 2));
        assertThrows(IllegalArgumentException.class, () -> LanesColumnsTask.answer("+7204-1193+5530"));
        assertThrows(IllegalArgumentException.class, () -> LanesColumnsTask.prompt("*7204-1193+5530-0817"));
    }

    @Test
    void aLastRowWithoutDigitsIsLeftToTheEosPadding() {
        // every lane '+' and short: the answer ends with the longest lane's last digit
        String a = LanesColumnsTask.answer("+7204+5530+5530+5530");
        assertEquals(5 * 13 + 1, a.length(), a); // lane 0's last digit (its 0, sequence index 13) in row 13, column 0
        assertTrue(a.endsWith(",0"), a);
        // a '-' lane puts its first start digit in the bottom row: the full grid
        assertEquals(124, LanesColumnsTask.answer("+7204+5530+5530-5530").length());
        assertEquals(122, LanesColumnsTask.answer("+7204-5530+5530+5530").length());
    }

    @Test
    void generatorIsDeterministicAndEveryColumnIsItsLanesSequenceFromTheEndItsSignNames() {
        Vocabulary v = Vocabulary.builtin();
        List<Example> one = task.dataset(Split.TRAIN, 5, 2000);
        assertEquals(one, task.dataset(Split.TRAIN, 5, 2000));
        assertNotEquals(one, task.dataset(Split.TRAIN, 6, 2000));
        Set<String> patterns = new HashSet<>();
        int[] traceHist = new int[LanesColumnsTask.MAX_TRACE + 1];
        Set<Integer> lengths = new TreeSet<>();
        for (Example e : one) {
            String key = e.key();
            assertEquals(LanesColumnsTask.prompt(key), e.prompt());
            assertEquals(LanesColumnsTask.answer(key), e.answer());
            assertEquals(26, v.encode(e.prompt()).length);
            int tokens = v.encode(e.answer()).length;
            assertEquals(e.answer().length(), tokens);
            assertTrue(tokens <= 124 && v.encode(e.prompt()).length + task.defaultGenLength() <= 176, e.toString());
            lengths.add(tokens);
            StringBuilder signs = new StringBuilder();
            for (int lane = 0; lane < 4; lane++) {
                char sign = key.charAt(5 * lane);
                signs.append(sign);
                String start = key.substring(5 * lane + 1, 5 * lane + 5);
                String trace = LAG.trace(start);
                assertTrue(trace.length() >= 1 && trace.length() <= LanesColumnsTask.MAX_TRACE, e.toString());
                traceHist[trace.length()]++;
                String col = column(e.answer(), lane);
                String inOrder = sign == '+' ? col : new StringBuilder(col).reverse().toString();
                assertEquals(start + trace + ".".repeat(LanesColumnsTask.MAX_TRACE - trace.length()), inOrder, e.toString());
                // the prompt's rows hold the start digits in the column's own direction
                for (int row = 0; row < 4; row++) {
                    char want = start.charAt(sign == '+' ? row : 3 - row);
                    assertEquals(want, e.prompt().charAt("<lanes-columns>".length() + 5 + 5 * row + lane), e.toString());
                }
            }
            patterns.add(signs.toString());
            for (int i = 4; i < e.answer().length(); i += 5) assertEquals(',', e.answer().charAt(i));
            assertTrue(task.isCorrect(e, e.answer()));
        }
        assertEquals(16, patterns.size(), "every direction pattern occurs");
        // lengths are the work's: short lanes, full columns and early-ending all-'+' answers all occur
        assertTrue(traceHist[1] > 0 && traceHist[LanesColumnsTask.MAX_TRACE] > 0, Arrays.toString(traceHist));
        assertTrue(lengths.contains(124) && lengths.stream().anyMatch(n -> n < 100), lengths.toString());
    }

    @Test
    void everyDigitSitsAtTheSameOffsetsFromWhatItIsComputedFrom() {
        // in the whole sequence (prompt + answer): a '+' cell is the sum of the cells 5 and 20 before it, a '-' cell of the cells 5 and 20 after it
        for (Example e : task.dataset(Split.VALIDATION, 3, 300)) {
            String seq = e.prompt().replace("<lanes-columns>", "#") + e.answer();
            int answerStart = 26;
            for (int i = answerStart; i < seq.length(); i++) {
                int lane = (i - answerStart) % 5, row = (i - answerStart) / 5;
                if (lane == 4 || !Character.isDigit(seq.charAt(i))) continue;
                boolean forward = e.key().charAt(5 * lane) == '+';
                int x = seq.charAt(i) - '0';
                if (forward) {
                    if (row < 4) assertEquals(seq.charAt(i - 20), seq.charAt(i), "a copy of the prompt row 20 before");
                    else assertEquals(x, (seq.charAt(i - 5) - '0' + seq.charAt(i - 20) - '0') % 10, e.toString());
                } else {
                    if (row >= LanesColumnsTask.ROWS - 4) assertEquals(seq.charAt(i - 125), seq.charAt(i), "a copy of the prompt row 125 before");
                    else assertEquals(x, (seq.charAt(i + 5) - '0' + seq.charAt(i + 20) - '0') % 10, e.toString());
                }
            }
        }
    }

    @Test
    void verifierRejectsAnyOneTokenChangeAndCutShortAnswers() {
        for (Example e : task.dataset(Split.TEST, 4, 100)) {
            String a = e.answer();
            for (int cut = 0; cut < a.length(); cut++) assertFalse(task.isCorrect(e, a.substring(0, cut)));
            assertFalse(task.isCorrect(e, a + ","));
            for (int i = 0; i < a.length(); i++) {
                char c = a.charAt(i);
                char w = c >= '0' && c <= '9' ? (char) ('0' + (c - '0' + 1) % 10) : c == '.' ? '0' : '.';
                String wrong = a.substring(0, i) + w + a.substring(i + 1);
                assertFalse(task.isCorrect(e, wrong), "accepts " + wrong + " for " + a);
            }
        }
    }

    @Test
    void splitsAreDisjointByTheirKeys() {
        Map<Split, Set<String>> keys = new EnumMap<>(Split.class);
        for (Split s : Split.values()) {
            Set<String> k = new HashSet<>();
            for (Example e : task.dataset(s, 9, 1000)) {
                assertEquals(s, Split.of(e.key()));
                k.add(e.key());
            }
            assertEquals(1000, k.size());
            keys.put(s, k);
        }
        for (Split s : Split.values()) for (Split t : Split.values()) if (s != t) assertTrue(Collections.disjoint(keys.get(s), keys.get(t)));
    }

    @Test
    void theStepBeforeADigitIsTheCellItIsComputedFromInItsOwnColumn() {
        String a = LanesColumnsTask.answer("+7204-1193+5530-0817");
        int[] step = task.stepOfEachToken(a);
        assertEquals(a.length(), step.length);
        // lane 0 (+): copies in rows 0-3 are step 0, trace digit k in row 4 + k is step 1 + k, its filler the step after its last digit
        for (int row = 0; row < 4; row++) assertEquals(0, step[5 * row]);
        assertEquals(1, step[5 * 4]);
        assertEquals(10, step[5 * 13]);
        assertEquals(11, step[5 * 14]);
        assertEquals(11, step[5 * 24]);
        // lane 1 (-): copies in the bottom four rows, trace digit 0 in row 20, upwards
        for (int row = 21; row < 25; row++) assertEquals(64, step[5 * row + 1]);
        assertEquals(65, step[5 * 20 + 1]);
        assertEquals(66, step[5 * 19 + 1]);
        int trace1 = LaggedSumTask.shortAnswers().trace("1193").length();
        assertEquals(64 + 1 + trace1, step[1]);
        // separators: a step of their own
        assertEquals(257, step[4]);
        // the depth: the longest lane (lane 1, 18 digits) and its stop
        assertEquals(18, trace1);
        assertEquals(19, task.steps(a));
    }
}
