package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.*;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TasksTest {
    private static final String[] GCD_FIRST_TRAIN_KEYS = {"155,6", "823,373", "732,470"};
    private static final String[] HAPPY_FIRST_TRAIN_KEYS = {"7606", "4295", "3377"};
    private static final String[] REVADD_FIRST_TRAIN_KEYS = {"85266", "40882", "3557"};
    private static final String[] FIB_FIRST_TRAIN_KEYS = {"81,37", "70,97", "22,96"};
    private static final String[] LAG_FIRST_TRAIN_KEYS = {"8302", "0881", "3737"};
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
        // the trace tasks are pinned too: a changed generator would silently change what a model trained on them saw
        assertEquals(List.of(GCD_FIRST_TRAIN_KEYS), Tasks.byName("gcd").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(List.of(HAPPY_FIRST_TRAIN_KEYS), Tasks.byName("happy").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(List.of(REVADD_FIRST_TRAIN_KEYS), Tasks.byName("revadd").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(List.of(FIB_FIRST_TRAIN_KEYS), Tasks.byName("fib").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
        assertEquals(List.of(LAG_FIRST_TRAIN_KEYS), Tasks.byName("lag").dataset(Split.TRAIN, 1, 3).stream().map(Example::key).toList());
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
                // the shipped models (max length 96) take the short-buffer tasks; the trace tasks need prompt + 128,
                // within the testbed models' 176 positions (lanes and lanes-columns, whose prompts hold four lanes: 27 + 128, 26 + 128)
                assertTrue(seq.length <= (t.defaultGenLength() <= 64 ? 96 : name.startsWith("lanes") ? 176 : 140), name + " sequence of " + seq.length + " tokens");
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
    void euclidTraceDividesUntilTheRemainderIsZeroAndEndsWithTheGcd() {
        Task gcd = Tasks.byName("gcd");
        assertEquals("84=2*36+12,36=3*12+0>12", EuclidTask.trace(84, 36));
        assertEquals("7=7*1+0>1", EuclidTask.trace(7, 1));
        for (Example e : gcd.dataset(Split.TRAIN, 5, 2000)) {
            String[] ab = e.key().split(",");
            long a = Long.parseLong(ab[0]), b = Long.parseLong(ab[1]);
            assertTrue(a > b && b >= 1 && a <= EuclidTask.MAX_DIVIDEND, e.key());
            assertEquals("<gcd>" + e.key() + "=", e.prompt());
            String[] steps = e.answer().substring(0, e.answer().indexOf('>')).split(",");
            long dividend = a, divisor = b;
            for (int k = 0; k < steps.length; k++) {
                // dividend=quotient*divisor+remainder, checked by arithmetic, not by re-running the generator
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)=(\\d+)\\*(\\d+)\\+(\\d+)").matcher(steps[k]);
                assertTrue(m.matches(), steps[k]);
                long x = Long.parseLong(m.group(1)), q = Long.parseLong(m.group(2)), y = Long.parseLong(m.group(3)), r = Long.parseLong(m.group(4));
                assertEquals(dividend, x, e.toString());
                assertEquals(divisor, y, e.toString());
                assertEquals(x, q * y + r, e.toString());
                assertTrue(r >= 0 && r < y, e.toString());
                assertEquals(k == steps.length - 1, r == 0, "stops at the first zero remainder: " + e);
                dividend = y;
                divisor = r;
            }
            long expected = java.math.BigInteger.valueOf(a).gcd(java.math.BigInteger.valueOf(b)).longValueExact();
            assertEquals(">" + expected, e.answer().substring(e.answer().indexOf('>')), e.toString());
            assertTrue(gcd.isCorrect(e, e.answer()));
        }
    }

    @Test
    void euclidDrawsOnlyTracesThatFitTheBufferAndTheLongestOnesNeedTheRule() {
        // the check in the generator is not idle: 107 of the 498,501 pairs below 1000 need more than 128 tokens
        int over = 0, pairs = 0, longestPossible = 0;
        for (int a = 2; a <= EuclidTask.MAX_DIVIDEND; a++) {
            for (int b = 1; b < a; b++, pairs++) {
                int len = EuclidTask.trace(a, b).length();
                longestPossible = Math.max(longestPossible, len);
                if (len > 128) over++;
            }
        }
        assertEquals(107, over, "pairs over the buffer, of " + pairs);
        assertEquals(152, longestPossible);
        Vocabulary v = Vocabulary.builtin();
        int longest = 0;
        for (Example e : Tasks.byName("gcd").dataset(Split.TRAIN, 2, 20000)) longest = Math.max(longest, v.encode(e.answer()).length);
        assertTrue(longest <= 128 && longest > 110, "longest drawn answer " + longest);
    }

    @Test
    void happyTraceAppliesTheDigitSquareMapUntilOneOrFourAndCountsTheSteps() {
        Task happy = Tasks.byName("happy");
        assertEquals("150,26,40,16,37,58,89,145,42,20,4>11", HappyTask.trace(4729));
        assertEquals("49,97,130,10,1>5", HappyTask.trace(7));
        assertEquals(4 * 4 + 7 * 7 + 2 * 2 + 9 * 9, HappyTask.digitSquareSum(4729));
        for (Example e : happy.dataset(Split.TRAIN, 5, 2000)) {
            int start = Integer.parseInt(e.key());
            assertTrue(start >= 2 && start <= HappyTask.MAX_START && start != 4, e.key());
            assertEquals("<happy>" + start + "=", e.prompt());
            String[] values = e.answer().substring(0, e.answer().indexOf('>')).split(",");
            int previous = start;
            for (int k = 0; k < values.length; k++) {
                int value = Integer.parseInt(values[k]);
                int expected = 0;
                for (char c : Integer.toString(previous).toCharArray()) expected += (c - '0') * (c - '0');
                assertEquals(expected, value, e.toString());
                assertEquals(k == values.length - 1, value == 1 || value == 4, "stops at the first 1 or 4: " + e);
                previous = value;
            }
            assertEquals(">" + values.length, e.answer().substring(e.answer().indexOf('>')), e.toString());
            assertTrue(happy.isCorrect(e, e.answer()));
        }
    }

    @Test
    void reverseAddTraceAddsEachSumToItsMirrorUntilAPalindrome() {
        Task revadd = Tasks.byName("revadd");
        assertEquals("165,726,1353,4884>4", ReverseAddTask.trace("87", 128));
        assertEquals("121>1", ReverseAddTask.trace("29", 128));
        assertNull(ReverseAddTask.trace("196", 128), "196 does not reach a palindrome within the buffer");
        assertEquals("198", ReverseAddTask.addReversal("99"), "a carry out of the top digit");
        assertEquals("5000000000000000000000000005", ReverseAddTask.addReversal("5000000000000000000000000000"), "beyond a long");
        int tooLong = 0, oneStep = 0, nonPalindromes = 0;
        for (int n = ReverseAddTask.MIN_START; n <= ReverseAddTask.MAX_START; n++) {
            String s = Integer.toString(n);
            if (new StringBuilder(s).reverse().toString().equals(s)) continue;
            nonPalindromes++;
            String t = ReverseAddTask.trace(s, 128);
            if (t == null) tooLong++;
            else if (t.endsWith(">1")) oneStep++;
        }
        assertEquals(98_901, nonPalindromes);
        assertEquals(10_698, tooLong, "starts whose trace does not fit the buffer");
        assertEquals(15_136, oneStep, "starts left out because one step ends them");
        for (Example e : revadd.dataset(Split.TRAIN, 5, 2000)) {
            java.math.BigInteger v = new java.math.BigInteger(e.key());
            assertTrue(v.intValueExact() >= ReverseAddTask.MIN_START && v.intValueExact() <= ReverseAddTask.MAX_START, e.key());
            assertNotEquals(new StringBuilder(e.key()).reverse().toString(), e.key(), "a palindrome start has nothing to do");
            assertEquals("<revadd>" + e.key() + "=", e.prompt());
            String[] sums = e.answer().substring(0, e.answer().indexOf('>')).split(",");
            for (int k = 0; k < sums.length; k++) {
                // checked with BigInteger arithmetic, not the task's own string addition
                v = v.add(new java.math.BigInteger(new StringBuilder(v.toString()).reverse().toString()));
                assertEquals(v.toString(), sums[k], e.toString());
                boolean palindrome = new StringBuilder(sums[k]).reverse().toString().equals(sums[k]);
                assertEquals(k == sums.length - 1, palindrome, "stops at the first palindrome: " + e);
            }
            assertEquals(">" + sums.length, e.answer().substring(e.answer().indexOf('>')), e.toString());
            assertTrue(sums.length >= 2 && e.answer().length() <= 128, e.toString());
            assertTrue(revadd.isCorrect(e, e.answer()));
        }
    }

    @Test
    void traceVerifiersRejectWrongCutShortAndOverlongAnswers() {
        for (String name : List.of("gcd", "happy", "revadd", "fib", "lag", "lag5", "lag48", "ducci")) {
            Task t = Tasks.byName(name);
            for (Example e : t.dataset(Split.TEST, 4, 100)) {
                String a = e.answer();
                // every proper prefix is an answer that EOS cut short
                for (int cut = 0; cut < a.length(); cut++) assertFalse(t.isCorrect(e, a.substring(0, cut)), name + " accepts cut-short " + a.substring(0, cut));
                assertFalse(t.isCorrect(e, a + "0"), name + " accepts trailing text");
                assertFalse(t.isCorrect(e, a + ","), name + " accepts trailing text");
                // one wrong digit anywhere, even where the final value stays right
                for (int i = 0; i < a.length(); i++) {
                    char c = a.charAt(i);
                    if (c < '0' || c > '9') continue;
                    String wrong = a.substring(0, i) + (char) ('0' + (c - '0' + 1) % 10) + a.substring(i + 1);
                    assertFalse(t.isCorrect(e, wrong), name + " accepts " + wrong + " for " + a);
                }
            }
        }
        Task gcd = Tasks.byName("gcd");
        Example e = new Example("gcd", "84,36", "<gcd>84,36=", "84=2*36+12,36=3*12+0>12");
        assertFalse(gcd.isCorrect(e, ">12"), "the gcd without its trace");
        assertFalse(gcd.isCorrect(e, "84=2*36+12>12"), "a step left out");
    }

    @Test
    void traceTasksPadA128TokenBufferWithEosAndTheirLengthsVaryWithinEveryPromptSize() {
        Vocabulary v = Vocabulary.builtin();
        for (String name : List.of("gcd", "happy", "revadd", "fib", "lag", "lag5", "lag48", "ducci")) {
            Task t = Tasks.byName(name);
            assertTrue(t.defaultGenLength() >= 128, name);
            List<Example> train = t.dataset(Split.TRAIN, 7, 2000);
            java.util.Map<Integer, java.util.Map<Integer, Integer>> lengthsByPromptLength = new java.util.TreeMap<>();
            Set<Integer> tokenLengths = new HashSet<>(), stepCounts = new HashSet<>();
            int padded = 0;
            for (Example e : train) {
                int promptLen = v.encode(e.prompt()).length, answerLen = v.encode(e.answer()).length;
                int[] seq = Task.targetSequence(v, e, t.defaultGenLength());
                if (seq[seq.length - 1] == v.eosId()) padded++;
                tokenLengths.add(answerLen);
                stepCounts.add(t.steps(e.answer()));
                lengthsByPromptLength.computeIfAbsent(promptLen, k -> new java.util.HashMap<>()).merge(answerLen, 1, Integer::sum);
            }
            assertTrue(padded >= 1990, name + ": answers end in EOS padding");
            // a ducci answer is whole rows of nine tokens: as many token lengths as row counts
            assertTrue(tokenLengths.size() >= (name.equals("ducci") ? 10 : 30), name + " token lengths " + tokenLengths);
            assertTrue(stepCounts.size() >= 10, name + " step counts " + stepCounts);
            // the prompt's length does not give the answer's away: within every prompt length with enough
            // instances, no single answer length covers a fifth of them (revadd: two fifths; a third of
            // its answers take two steps, and two sums of a given size have one length; ducci: 41% of
            // starts take 8 rows, whatever their digits)
            double bound = name.equals("revadd") ? 0.4 : name.equals("ducci") ? 0.45 : 0.2;
            for (var byLength : lengthsByPromptLength.entrySet()) {
                int total = byLength.getValue().values().stream().mapToInt(Integer::intValue).sum();
                if (total < 100) continue;
                int mostCommon = byLength.getValue().values().stream().mapToInt(Integer::intValue).max().orElseThrow();
                assertTrue(mostCommon < bound * total, name + " prompt length " + byLength.getKey() + ": " + byLength.getValue());
                assertTrue(byLength.getValue().size() >= 10, name + " prompt length " + byLength.getKey() + ": " + byLength.getValue());
            }
        }
    }

    @Test
    void lengthStatsSeeThroughTasksWhosePromptFixesTheLengthAndNotThroughTraceTasks() {
        Vocabulary v = Vocabulary.builtin();
        LengthStats.Report sort = LengthStats.of(Tasks.byName("sort"), v, Split.TRAIN, 1, 2000);
        LengthStats.Predictability sortSize = sort.predictability().get(0);
        assertEquals(1.0, sortSize.r2Tokens(), 1e-6, "2n-1 tokens for n numbers");
        assertEquals(1.0, sortSize.exactTokens(), 1e-12);
        assertTrue(sortSize.modeExactTokens() < 0.25);
        LengthStats.Report sudoku = LengthStats.of(Tasks.byName("sudoku"), v, Split.TRAIN, 1, 500);
        assertTrue(Double.isNaN(sudoku.predictability().get(0).r2Tokens()), "constant length: R² undefined");
        assertEquals(0.0, sudoku.endedShare()[18]);
        assertEquals(1.0, sudoku.endedShare()[19], "19 tokens, EOS from the 20th position on");
        for (String name : List.of("gcd", "happy", "revadd", "fib", "lag", "lag5", "lag48", "ducci")) {
            LengthStats.Report r = LengthStats.of(Tasks.byName(name), v, Split.TRAIN, 1, 2000);
            for (LengthStats.Predictability p : r.predictability()) {
                assertTrue(p.r2Tokens() < 0.5 && p.r2Steps() < 0.5, name + " " + p);
                assertTrue(p.rmseTokens() > 8, name + " " + p);
            }
            // the exact length is guessed from the prompt's size hardly more often than with no features at all
            LengthStats.Predictability size = r.predictability().get(0);
            assertTrue(size.exactTokens() < (name.equals("ducci") ? 0.45 : 0.4) && size.exactTokens() - size.modeExactTokens() < 0.05, name + " " + size);
            assertTrue(r.positionEnded(0.9) - r.positionEnded(0.1) >= 25, name + ": the end of the answer spreads over many positions");
        }
        assertEquals(3, LengthStats.steps("84=2*36+12,36=3*12+0,1=1*1+0>12"));
        assertEquals(1, LengthStats.steps("1234|3412|2143|4321"));
    }

    @Test
    void ducciTraceTakesAbsoluteDifferencesOfNeighboursAroundTheRingUntilARowOfZeros() {
        assertEquals("23344743,10103311,11130200,00232201,02110211,21012101,11111111,00000000", DucciTask.trace("31415926"));
        assertEquals("00000000", DucciTask.trace("77777777"), "equal digits: one row of zeros");
        assertThrows(IllegalArgumentException.class, () -> DucciTask.trace("1234567"));
        assertThrows(IllegalArgumentException.class, () -> DucciTask.trace("1234567a"));
        Task ducci = Tasks.byName("ducci");
        for (Example e : ducci.dataset(Split.TRAIN, 3, 3000)) {
            assertEquals("<ducci>" + e.key() + ",", e.prompt());
            assertTrue(e.answer().length() <= 128, e.toString());
            String[] rows = e.answer().split(",");
            assertEquals(rows.length, ducci.steps(e.answer()));
            String before = e.key();
            for (int r = 0; r < rows.length; r++) {
                assertEquals(8, rows[r].length(), e.toString());
                for (int i = 0; i < 8; i++) {
                    int expected = Math.abs(before.charAt(i) - before.charAt((i + 1) % 8));
                    assertEquals(expected, rows[r].charAt(i) - '0', e + " row " + r + " digit " + i);
                }
                // the zero row ends the answer, and only the last row is zeros
                assertEquals(r == rows.length - 1, rows[r].equals("00000000"), e.toString());
                before = rows[r];
            }
        }
    }

    @Test
    void fibonacciTraceAddsTheTwoValuesBeforeModHundredUntilOneFallsBelowTen() {
        assertEquals("42,47,89,36,25,61,86,47,33,80,13,93,06", FibonacciTask.trace(37, 5));
        assertEquals("05", FibonacciTask.trace(0, 5), "a value below 10 at once: one step");
        Task fib = Tasks.byName("fib");
        Set<String> keys = new HashSet<>();
        for (Example e : fib.dataset(Split.TRAIN, 3, 3000)) {
            String[] ab = e.key().split(",");
            assertEquals("<fib>" + e.key() + "=", e.prompt());
            int previous = Integer.parseInt(ab[0]), current = Integer.parseInt(ab[1]);
            String[] values = e.answer().split(",");
            for (int k = 0; k < values.length; k++) {
                int next = Integer.parseInt(values[k]);
                assertEquals(2, values[k].length(), e.toString());
                assertEquals((previous + current) % 100, next, e.toString());
                assertEquals(k == values.length - 1, next < 10, "stops at the first value below 10: " + e);
                previous = current;
                current = next;
            }
            assertTrue(e.answer().length() <= 128);
            assertEquals(values.length, fib.steps(e.answer()));
            keys.add(e.key());
        }
        assertEquals(3000, keys.size());
    }

    @Test
    void laggedSumTraceAddsTheDigitsOneAndFourBackUntilAZeroFollowsAnOddDigit() {
        assertEquals("1337814190", LaggedSumTask.shortAnswers().trace("7204"));
        Task lag = Tasks.byName("lag");
        for (Example e : lag.dataset(Split.TRAIN, 3, 3000)) {
            String x = e.key() + e.answer();
            assertEquals("<lag>" + e.key() + "=", e.prompt());
            for (int t = 4; t < x.length(); t++) {
                int d = x.charAt(t) - '0';
                assertEquals((x.charAt(t - 1) - '0' + x.charAt(t - 4) - '0') % 10, d, e.toString());
                boolean stop = d == 0 && (x.charAt(t - 1) - '0') % 2 == 1;
                assertEquals(t == x.length() - 1, stop, "stops at the first 0 after an odd digit: " + e);
            }
            assertTrue(e.answer().length() <= 128);
            assertEquals(e.answer().length(), lag.steps(e.answer()), "one step per digit");
        }
        // all-even starts never stop (every later digit is even); they are drawn again, never emitted
        assertTrue(LaggedSumTask.shortAnswers().trace("2468").length() > 128);
    }

    @Test
    void longLaggedSumAddsTheDigitsOneAndFiveBackUntilAZeroFollowsANineAndItsAnswersFillTheBuffer() {
        assertEquals("8004533", LaggedSumTask.longAnswers().trace("72041").substring(0, 7));
        Task lag5 = Tasks.byName("lag5");
        java.util.List<Integer> lengths = new java.util.ArrayList<>();
        for (Example e : lag5.dataset(Split.TRAIN, 3, 3000)) {
            String x = e.key() + e.answer();
            assertEquals("<lag5>" + e.key(), e.prompt(), "the answer continues the start digits");
            assertEquals(5, e.key().length());
            for (int t = 5; t < x.length(); t++) {
                int d = x.charAt(t) - '0';
                assertEquals((x.charAt(t - 1) - '0' + x.charAt(t - 5) - '0') % 10, d, e.toString());
                assertEquals(t == x.length() - 1, d == 0 && x.charAt(t - 1) == '9', "stops at the first 0 after a 9: " + e);
            }
            assertTrue(e.answer().length() <= 128);
            lengths.add(e.answer().length());
        }
        java.util.Collections.sort(lengths);
        // long answers spread over the buffer: the quartiles the task's documentation promises
        assertTrue(lengths.get(750) >= 10 && lengths.get(750) <= 25, "first quartile " + lengths.get(750));
        assertTrue(lengths.get(1500) >= 30 && lengths.get(1500) <= 45, "median " + lengths.get(1500));
        assertTrue(lengths.get(2700) >= 85, "ninth decile " + lengths.get(2700));
    }

    @Test
    void lag48KeepsLagsRuleButCountsTheStopOnlyFromThe48thDigit() {
        // same rule as lag, so the first 48 digits are lag's trace whenever lag's own answer is longer
        assertEquals(LaggedSumTask.shortAnswers().trace("7204").substring(0, 10), LaggedSumTask.atLeast48Digits().trace("7204").substring(0, 10));
        assertEquals("1337814190", LaggedSumTask.shortAnswers().trace("7204"));
        Task lag48 = Tasks.byName("lag48");
        java.util.List<Integer> lengths = new java.util.ArrayList<>();
        for (Example e : lag48.dataset(Split.TRAIN, 5, 2000)) {
            String x = e.key() + e.answer();
            assertEquals("<lag48>" + e.key() + "=", e.prompt());
            for (int t = 4; t < x.length(); t++) {
                int d = x.charAt(t) - '0';
                assertEquals((x.charAt(t - 1) - '0' + x.charAt(t - 4) - '0') % 10, d, e.toString());
                boolean stop = t - 4 >= 47 && d == 0 && (x.charAt(t - 1) - '0') % 2 == 1;
                assertEquals(t == x.length() - 1, stop, "stops at the first 0 after an odd digit from the 48th digit on: " + e);
            }
            lengths.add(e.answer().length());
        }
        java.util.Collections.sort(lengths);
        assertTrue(lengths.get(0) >= 48 && lengths.get(lengths.size() - 1) <= 128, lengths.get(0) + ".." + lengths.get(lengths.size() - 1));
        assertTrue(lengths.get(1000) >= 55 && lengths.get(1000) <= 64, "median " + lengths.get(1000));
        assertTrue(lengths.get(1800) >= 78 && lengths.get(1800) <= 90, "ninth decile " + lengths.get(1800));
    }

    @Test
    void unknownTaskNamesTheKnownOnes() {
        UnmaskException e = assertThrows(UnmaskException.class, () -> Tasks.byName("chess"));
        assertEquals("unknown task 'chess' (known: arith, arith-chain, arith-running, ducci, fib, gcd, happy, lag, lag48, lag5, lanes, lanes-columns, revadd, sort, sudoku)", e.getMessage());
    }
}
