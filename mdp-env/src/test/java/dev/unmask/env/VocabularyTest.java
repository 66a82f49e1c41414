package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import org.junit.jupiter.api.Test;

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
    void unknownCharacterIsAOneLineError() {
        UnmaskException e = assertThrows(UnmaskException.class, () -> v.encode("12a"));
        assertTrue(e.getMessage().contains("'a' at offset 2"), e.getMessage());
        assertThrows(UnmaskException.class, () -> v.token(999));
    }
}
