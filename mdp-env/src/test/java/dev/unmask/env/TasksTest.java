package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.*;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TasksTest {
    @Test
    void trainValidationAndTestAreDisjointAndSeeded() {
        for (String name : Tasks.names()) {
            Task t = Tasks.byName(name);
            List<Example> test = t.dataset(Split.TEST, 1, 200);
            List<Example> validation = t.dataset(Split.VALIDATION, 1, 200);
            List<Example> train = t.dataset(Split.TRAIN, 1, 1000);
            Set<String> testKeys = new HashSet<>(), validationKeys = new HashSet<>();
            test.forEach(e -> testKeys.add(e.key()));
            validation.forEach(e -> validationKeys.add(e.key()));
            assertEquals(200, testKeys.size());
            assertEquals(200, validationKeys.size());
            validation.forEach(e -> assertFalse(testKeys.contains(e.key()), name + " validation leaks into test: " + e.key()));
            train.forEach(e -> assertFalse(testKeys.contains(e.key()) || validationKeys.contains(e.key()), name + " train leaks " + e.key()));
            assertEquals(test, t.dataset(Split.TEST, 1, 200), "same seed, same set");
            assertEquals(validation, t.dataset(Split.VALIDATION, 1, 200), "same seed, same set");
        }
    }

    @Test
    void splitsHaveTheirShareAndTrainIsUnchangedByTheValidationSplit() {
        // Validation was carved out of the old 1-in-5 test split: an instance that was TRAIN stays TRAIN,
        // so the shipped dLLMs and policies (trained before the validation split existed) replay exactly.
        int[] counts = new int[3];
        for (int i = 0; i < 100_000; i++) counts[Split.of("k" + i).ordinal()]++;
        assertEquals(0.8, counts[Split.TRAIN.ordinal()] / 1e5, 0.01);
        assertEquals(0.1, counts[Split.VALIDATION.ordinal()] / 1e5, 0.01);
        assertEquals(0.1, counts[Split.TEST.ordinal()] / 1e5, 0.01);
        // the first train instances of each task are the ones the 1-in-5 rule drew (recorded in an older checkout)
        assertEquals(List.of("..3.|.1..|1423|.3.4", "..31|..4.|31.4|421.", "43.1|1.4.|.412|.1.4"),
                Tasks.byName("sudoku").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(List.of("2-1-1+0+7", "6+2-0", "4-2+3+7+4"),
                Tasks.byName("arith-chain").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(Split.VALIDATION, Split.parse("val"));
        assertEquals(Split.TEST, Split.parse(" Test "));
        assertThrows(UnmaskException.class, () -> Split.parse("dev"));
    }

    @Test
    void referenceAnswersVerifyAndFitTheBuffer() {
        Vocabulary v = Vocabulary.builtin();
        for (String name : Tasks.names()) {
            Task t = Tasks.byName(name);
            for (Example e : t.dataset(Split.TEST, 3, 300)) {
                assertTrue(t.isCorrect(e, e.answer()), name + ": " + e);
                int[] seq = Task.targetSequence(v, e, t.defaultGenLength());
                assertTrue(seq.length <= 96, "fits the built-in model");
                int promptLen = v.encode(e.prompt()).length;
                int[] buffer = java.util.Arrays.copyOfRange(seq, promptLen, seq.length);
                assertEquals(e.answer(), Task.answerText(v, buffer));
            }
        }
    }

    @Test
    void verifiersRejectWrongAnswers() {
        Task arith = Tasks.byName("arith");
        Example e = new Example("arith", "3+5-2", "<arith>3+5-2=", "3+5=08,08-2=06>06");
        assertTrue(arith.isCorrect(e, "3+5=08,08-2=06>06"));
        assertFalse(arith.isCorrect(e, "3+5=08,08-2=06>07"));
        assertFalse(arith.isCorrect(e, "3+5=08,08-2=06>0"), "truncated answer is wrong");
        assertFalse(arith.isCorrect(e, "3+5=08,08-2=06"), "no final marker");

        Task sudoku = Tasks.byName("sudoku");
        Example s = new Example("sudoku", "2...|....|....|....", "<sudoku>2...|....|....|....=", "2134|3412|1243|4321");
        assertFalse(sudoku.isCorrect(s, "1234|3412|2143|4321"), "violates the givens (first cell must be 2)");
        Example s2 = new Example("sudoku", "1.3.|....|....|...1", "<sudoku>1.3.|....|....|...1=", "1234|3412|2143|4321");
        assertTrue(sudoku.isCorrect(s2, "1234|3412|2143|4321"));
        assertFalse(sudoku.isCorrect(s2, "1234|3412|2143|4312"), "column and box rule");
        assertFalse(sudoku.isCorrect(s2, "1234|3412|2143|432"), "too short");

        Task sort = Tasks.byName("sort");
        Example so = new Example("sort", "4,0", "<sort>4,0=", "0,4");
        assertTrue(sort.isCorrect(so, "0,4"));
        assertFalse(sort.isCorrect(so, "0,0"));
    }

    @Test
    void arithmeticTraceIsEvaluatedLeftToRight() {
        for (Example e : Tasks.byName("arith").dataset(Split.TRAIN, 5, 200)) {
            String[] steps = e.answer().substring(0, e.answer().indexOf('>')).split(",");
            int total = e.key().charAt(0) - '0';
            assertEquals(e.key().length() / 2, steps.length);
            for (String st : steps) {
                int eq = st.indexOf('=');
                int a = Integer.parseInt(st.substring(0, eq - 2)), b = st.charAt(eq - 1) - '0';
                assertEquals(total, a, e.toString());
                total = st.charAt(eq - 2) == '+' ? a + b : a - b;
                assertEquals(String.format("%02d", total), st.substring(eq + 1), e.toString());
            }
            assertEquals(String.format("%02d", total), e.answer().substring(e.answer().indexOf('>') + 1));
            assertTrue(List.of(17, 25, 33).contains(e.answer().length()), e.answer());
        }
    }

    @Test
    void runningTraceWritesEachTotalOnceAndKeepsTheOriginalFormatsPrompts() {
        for (Example e : Tasks.byName("arith-running").dataset(Split.TRAIN, 5, 200)) {
            String expr = e.key();
            String[] steps = e.answer().substring(0, e.answer().indexOf('>')).split(",");
            assertEquals(expr.length() / 2, steps.length);
            int total = expr.charAt(0) - '0';
            StringBuilder expected = new StringBuilder().append(total);
            for (int i = 1; i < expr.length(); i += 2) {
                int v = expr.charAt(i + 1) - '0';
                total = expr.charAt(i) == '+' ? total + v : total - v;
                if (i > 1) expected.append(',');
                expected.append(expr.charAt(i)).append(v).append('=').append(String.format("%02d", total));
            }
            assertEquals(expected + ">" + String.format("%02d", total), e.answer());
            assertEquals("<arith>" + expr + "=", e.prompt());
            assertTrue(List.of(15, 21, 27).contains(e.answer().length()), e.answer());
        }
        // the same instances (same seed, same draws) as the original format: only the trace differs
        List<Example> restated = Tasks.byName("arith").dataset(Split.TEST, 9, 50), running = Tasks.byName("arith-running").dataset(Split.TEST, 9, 50);
        for (int i = 0; i < 50; i++) assertEquals(restated.get(i).key(), running.get(i).key());
    }

    @Test
    void chainTraceWritesEveryStepAlikeFromTheFirstOperandAsATotal() {
        List<Example> chain = Tasks.byName("arith-chain").dataset(Split.TEST, 9, 200), restated = Tasks.byName("arith").dataset(Split.TEST, 9, 200);
        for (int n = 0; n < chain.size(); n++) {
            Example e = chain.get(n);
            String expr = e.key();
            int total = expr.charAt(0) - '0';
            StringBuilder expected = new StringBuilder(String.format("%02d", total));
            for (int i = 1; i < expr.length(); i += 2) {
                int v = expr.charAt(i + 1) - '0';
                total = expr.charAt(i) == '+' ? total + v : total - v;
                expected.append(',').append(expr.charAt(i)).append(v).append('=').append(String.format("%02d", total));
            }
            assertEquals(expected + ">" + String.format("%02d", total), e.answer());
            assertEquals("<arith>" + expr + "=", e.prompt());
            assertTrue(List.of(17, 23, 29).contains(e.answer().length()), e.answer());
            assertEquals(restated.get(n).key(), e.key(), "the same instances as the other formats");
            assertTrue(Tasks.byName("arith-chain").isCorrect(e, e.answer()));
            String wrongFinal = e.answer().substring(0, e.answer().length() - 1) + (char) ('0' + (total + 1) % 10);
            assertFalse(Tasks.byName("arith-chain").isCorrect(e, wrongFinal));
        }
    }

    @Test
    void unknownTaskNamesTheKnownOnes() {
        UnmaskException e = assertThrows(UnmaskException.class, () -> Tasks.byName("chess"));
        assertEquals("unknown task 'chess' (known: arith, arith-chain, arith-running, sort, sudoku)", e.getMessage());
    }
}
