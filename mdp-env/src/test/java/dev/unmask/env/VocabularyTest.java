package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VocabularyTest {
    private final Vocabulary v = Vocabulary.builtin();

    @Test
    void encodesSpecialTokensAsOneTokenAndDecodesBack() {
        int[] ids = v.encode("<arith>12+3=");
        assertEquals(6, ids.length);
        assertEquals(v.id("<arith>"), ids[0]);
        assertEquals("<arith>12+3=", v.decode(ids));
        assertNotEquals(v.maskId(), v.eosId());
    }

    @Test
    void newTaskTokensAreAppendedSoOlderCheckpointsKeepTheirIds() {
        // the token list every shipped checkpoint stores in its vocab.json
        List<String> shipped = List.of("<pad>", "<mask>", "<eos>", "<arith>", "<sudoku>", "<sort>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                "+", "-", "*", "=", ",", ">", "|", ".");
        assertEquals(shipped, v.tokens().subList(0, shipped.size()));
        assertEquals(List.of("<gcd>", "<happy>", "<revadd>", "<fib>", "<lag>", "<lag5>", "<lag48>", "<ducci>", "<lanes>", "<lanes-columns>"), v.tokens().subList(shipped.size(), v.size()));
        assertArrayEquals(new int[]{v.id("<gcd>"), v.id("9"), v.id(","), v.id("6"), v.id("=")}, v.encode("<gcd>9,6="));
        // a checkpoint's own vocabulary (what DllmCheckpoint loads) does not know the new task tokens
        Vocabulary old = new Vocabulary(shipped, "<mask>", "<eos>", "<pad>");
        assertThrows(UnmaskException.class, () -> old.encode("<happy>7="));
        assertEquals(old.decode(old.encode("<sudoku>1.3.|..2.=")), v.decode(v.encode("<sudoku>1.3.|..2.=")));
    }

    @Test
    void unknownCharacterIsAOneLineError() {
        UnmaskException e = assertThrows(UnmaskException.class, () -> v.encode("12a"));
        assertTrue(e.getMessage().contains("'a' at offset 2"), e.getMessage());
        assertThrows(UnmaskException.class, () -> v.token(999));
    }
}
