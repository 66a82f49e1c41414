package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PolicySpecTest {
    @Test
    void cutsNameAndPiecesAsWritten() {
        PolicySpec s = PolicySpec.parse(" klass:conf=0.6, kl = 0.015,history=2,steps=64,steps=32 ");
        assertEquals("klass", s.name());
        assertEquals(5, s.params().size());
        PolicySpec.Param kl = s.params().get(1);
        assertEquals(" kl = 0.015", kl.text());
        assertEquals("kl", kl.key());
        assertEquals("0.015", kl.value());
        assertEquals(0.015, kl.number("x: "));
        assertEquals("32", s.value("steps"), "the last of a repeated key, as the policies read it");
        assertNull(s.value("tau"));
        assertEquals(List.of(), PolicySpec.parse("topk").params());
        assertEquals(List.of(), PolicySpec.parse("topk: ").params(), "nothing after ':' is no parameters");
        PolicySpec.Param bare = PolicySpec.parse("learned:runs/p1").params().get(0);
        assertFalse(bare.isPair());
        assertEquals("runs/p1", bare.text());
        assertEquals("learned", PolicySpec.parse("learned:path=a:b").name(), "only the first ':' ends the name");
        assertEquals("a:b", PolicySpec.parse("learned:path=a:b").value("path"));
    }

    @Test
    void heuristicErrorsNameWhatWasWritten() {
        assertEquals("heuristic 'threshold' takes tau=VALUE; got 'tau'", assertThrows(UnmaskException.class, () -> Heuristics.parse("threshold:tau")).getMessage());
        assertEquals("heuristic 'threshold' takes tau=VALUE; got 'steps=3'", assertThrows(UnmaskException.class, () -> Heuristics.parse("threshold:steps=3")).getMessage());
        assertEquals("heuristic 'threshold': tau must be a number, got ' high'",
                assertThrows(UnmaskException.class, () -> Heuristics.parse("threshold:tau= high")).getMessage());
        assertEquals("heuristic 'topk': steps must be finite", assertThrows(UnmaskException.class, () -> Heuristics.parse("topk:steps=Infinity")).getMessage());
        assertTrue(assertThrows(UnmaskException.class, () -> Heuristics.parse("nope:x=1")).getMessage().startsWith("unknown heuristic 'nope' (known: random, topk,"));
    }
}
