package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.eval.FailureCauses;
import dev.unmask.env.eval.FailureCauses.Cause;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Wrong answers sorted by cause at their first wrong token, on hand-made decodes of a fib trace. */
class FailureCausesTest {
    private static final Vocabulary V = Vocabulary.builtin();
    private static final Task FIB = Tasks.byName("fib");
    private static final Example E = new Example("fib", "37,05", "<fib>37,05=", "42,47,89,36,25,61,86,47,33,80,13,93,06");

    /** A 64-token buffer holding text then EOS, with each position's unmask step given by order (default: left to right). */
    private static EpisodeResult decoded(String text, int[] steps) {
        int[] buffer = new int[64];
        Arrays.fill(buffer, V.eosId());
        int[] ids = V.encode(text);
        System.arraycopy(ids, 0, buffer, 0, ids.length);
        int[] at = new int[64];
        for (int i = 0; i < 64; i++) at[i] = steps != null && i < steps.length ? steps[i] : i + 1;
        String answer = Task.answerText(V, buffer);
        return new EpisodeResult(E, buffer, answer, FIB.isCorrect(E, answer), 64, 0, 0, at);
    }

    @Test
    void eachWrongAnswerGetsTheCauseOfItsFirstWrongToken() {
        assertNull(FailureCauses.of(decoded(E.answer(), null), FIB, V), "right answers have no cause");
        assertEquals(Cause.EARLY_EOS, FailureCauses.of(decoded("42,47,89", null), FIB, V), "a right prefix then EOS");
        assertEquals(Cause.OTHER, FailureCauses.of(decoded("43,47,89,36,25,61,86,47,33,80,13,93,06", null), FIB, V), "the first step depends on the prompt only");
        String wrongSecond = "42,48,89,36,25,61,86,47,33,80,13,93,06";
        // written left to right: the step before (42) was there when 48 was written
        assertEquals(Cause.OTHER, FailureCauses.of(decoded(wrongSecond, null), FIB, V));
        // the 8 (position 4) written in step 1, before the 2 of 42 (position 1, step 2)
        int[] early = new int[64];
        for (int i = 0; i < 64; i++) early[i] = i + 3;
        early[4] = 1;
        early[1] = 2;
        assertEquals(Cause.BEFORE_ITS_DEPENDENCY, FailureCauses.of(decoded(wrongSecond, early), FIB, V));
        early[1] = 1; // in the same forward pass: still not seen
        assertEquals(Cause.BEFORE_ITS_DEPENDENCY, FailureCauses.of(decoded(wrongSecond, early), FIB, V));
        // a right trace that does not stop: the token after it depends on the last step
        String overlong = E.answer() + ",99";
        assertEquals(Cause.OTHER, FailureCauses.of(decoded(overlong, null), FIB, V));
        int[] eosLate = new int[64];
        for (int i = 0; i < 64; i++) eosLate[i] = i + 2;
        eosLate[38] = 1; // the ',' after the trace written first
        assertEquals(Cause.BEFORE_ITS_DEPENDENCY, FailureCauses.of(decoded(overlong, eosLate), FIB, V));

        FailureCauses.Counts k = FailureCauses.count(List.of(decoded(E.answer(), null), decoded("42,47,89", null), decoded("42", null),
                decoded(wrongSecond, early), decoded(wrongSecond, null)), FIB, V);
        assertEquals(new FailureCauses.Counts(5, 4, 2, 1, 1), k);
    }

    @Test
    void aLaggedSumDigitDependsOnTheDigitBeforeIt() {
        Task lag = Tasks.byName("lag");
        Example e = new Example("lag", "7204", "<lag>7204=", "1337814190");
        int[] buffer = new int[32];
        Arrays.fill(buffer, V.eosId());
        System.arraycopy(V.encode("1338814190"), 0, buffer, 0, 10);
        int[] at = new int[32];
        for (int i = 0; i < 32; i++) at[i] = i + 1;
        at[3] = 1; // the wrong 8 at position 3 before the 3 at position 2 (step 3)
        EpisodeResult r = new EpisodeResult(e, buffer, "1338814190", false, 32, 0, 0, at);
        assertEquals(Cause.BEFORE_ITS_DEPENDENCY, FailureCauses.of(r, lag, V));
        at[3] = 4;
        assertEquals(Cause.OTHER, FailureCauses.of(new EpisodeResult(e, buffer, "1338814190", false, 32, 0, 0, at), lag, V));
    }
}
