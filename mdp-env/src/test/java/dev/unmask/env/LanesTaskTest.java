package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.LaggedSumTask;
import dev.unmask.env.task.LanesTask;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/** The testbed task {@code lanes}: four lag traces, each written from the end its prompt names. */
class LanesTaskTest {
    private final Task lanes = Tasks.byName("lanes");

    @Test
    void eachLaneIsLagsTraceWrittenFromTheEndItsDirectionNames() {
        assertEquals("1337814190", LaggedSumTask.shortAnswers().trace("7204"));
        String a = LanesTask.answer("+7204-7204+0001-0001");
        String[] l = a.split("\\|", -1);
        assertEquals(4, l.length);
        assertEquals("1337814190" + ".".repeat(21), l[0]);
        assertEquals(".".repeat(21) + "0914187331", l[1]);
        String t = LaggedSumTask.shortAnswers().trace("0001");
        assertEquals(t + ".".repeat(31 - t.length()), l[2]);
        assertEquals(".".repeat(31 - t.length()) + new StringBuilder(t).reverse(), l[3]);
        // a last lane written left to right leaves its filler to the buffer's EOS: the answer ends with its work
        assertEquals(a.substring(0, 96) + "1337814190", LanesTask.answer("+7204-7204+0001+7204"));
        assertThrows(IllegalArgumentException.class, () -> LanesTask.answer("+7204-7204+0001"));
        assertThrows(IllegalArgumentException.class, () -> LanesTask.answer("*7204-7204+0001-0001"));
    }

    @Test
    void generatorIsDeterministicAndEveryAnswerIsItsPromptsLanesIn97To127Tokens() {
        Vocabulary v = Vocabulary.builtin();
        List<Example> one = lanes.dataset(Split.TRAIN, 5, 2000);
        assertEquals(one, lanes.dataset(Split.TRAIN, 5, 2000));
        assertNotEquals(one, lanes.dataset(Split.TRAIN, 6, 2000));
        Set<String> patterns = new HashSet<>();
        int[] digitsHist = new int[32];
        Set<Integer> tokenLengths = new HashSet<>();
        for (Example e : one) {
            assertEquals("<lanes>" + e.key() + "=", e.prompt());
            assertEquals(LanesTask.answer(e.key()), e.answer());
            int tokens = v.encode(e.answer()).length;
            assertEquals(e.key().charAt(15) == '-' ? 127 : 96 + e.answer().substring(96).length(), tokens, e.toString());
            assertTrue(tokens >= 97 && tokens <= 127, e.toString());
            tokenLengths.add(tokens);
            assertTrue(v.encode(e.prompt()).length + lanes.defaultGenLength() <= 176, "fits the testbed models' 176 positions");
            assertEquals(128, lanes.defaultGenLength());
            StringBuilder p = new StringBuilder();
            String[] l = e.answer().split("\\|", -1);
            for (int i = 0; i < 4; i++) {
                p.append(e.key().charAt(5 * i));
                String digits = l[i].replace(".", "");
                assertTrue(digits.length() >= 1 && digits.length() <= 30, e.toString());
                // filler only on the side away from the lane's start
                assertTrue(l[i].matches(e.key().charAt(5 * i) == '+' ? (i == 3 ? "[0-9]+" : "[0-9]+\\.+") : "\\.+[0-9]+"), e.toString());
                digitsHist[digits.length()]++;
            }
            patterns.add(p.toString());
            assertTrue(lanes.isCorrect(e, e.answer()));
        }
        assertEquals(16, patterns.size(), "every direction pattern occurs");
        assertTrue(tokenLengths.size() >= 25, "answer lengths " + tokenLengths);
        // lengths are the work's: short lanes and long ones both occur
        assertTrue(digitsHist[1] > 0 && digitsHist[25] + digitsHist[26] + digitsHist[27] + digitsHist[28] + digitsHist[29] + digitsHist[30] > 0, Arrays.toString(digitsHist));
    }

    @Test
    void verifierRejectsAnyOneTokenChangeAndCutShortAnswers() {
        for (Example e : lanes.dataset(Split.TEST, 4, 100)) {
            String a = e.answer();
            for (int cut = 0; cut < a.length(); cut++) assertFalse(lanes.isCorrect(e, a.substring(0, cut)));
            assertFalse(lanes.isCorrect(e, a + "."));
            for (int i = 0; i < a.length(); i++) {
                char c = a.charAt(i);
                char w = c >= '0' && c <= '9' ? (char) ('0' + (c - '0' + 1) % 10) : c == '.' ? '0' : '.';
                String wrong = a.substring(0, i) + w + a.substring(i + 1);
                assertFalse(lanes.isCorrect(e, wrong), "accepts " + wrong + " for " + a);
            }
        }
    }

    @Test
    void splitsAreDisjointByTheirKeys() {
        Map<Split, Set<String>> keys = new EnumMap<>(Split.class);
        for (Split s : Split.values()) {
            Set<String> k = new HashSet<>();
            for (Example e : lanes.dataset(s, 9, 1000)) {
                assertEquals(s, Split.of(e.key()));
                k.add(e.key());
            }
            assertEquals(1000, k.size());
            keys.put(s, k);
        }
        for (Split s : Split.values()) for (Split t : Split.values()) if (s != t) assertTrue(Collections.disjoint(keys.get(s), keys.get(t)));
    }

    @Test
    void theStepBeforeADigitIsTheDigitItIsComputedFromInItsOwnLane() {
        String a = LanesTask.answer("+7204-7204+0001-0001");
        int[] step = lanes.stepOfEachToken(a);
        assertEquals(a.length(), step.length);
        // lane 0, forward: digits 0.. at positions 0..; lane 1, backward: digit 0 at its right end
        assertEquals(1, step[0]);
        assertEquals(2, step[1]);
        int lane1End = 31 + 1 + 30;
        assertEquals(64 + 1, step[lane1End]);
        assertEquals(64 + 2, step[lane1End - 1]);
        // filler is the step after the lane's last digit; separators are steps of their own
        assertEquals(1 + 10, step[10]);
        assertEquals(64 + 1 + 10, step[32]);
        assertEquals(63, step[31]);
        assertEquals(11, lanes.steps("1337814190" + ".".repeat(21) + "|" + ".".repeat(30) + "0"));
    }
}
