package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** PolicyConfig owns the checks on a policy's shape: one line naming the key, wherever the shape comes from. */
class PolicyConfigTest {
    static String refusal(List<String> features, int dModel, int heads, int ffDim) {
        return assertThrows(UnmaskException.class, () -> new PolicyConfig(features, dModel, heads, ffDim, 1)).getMessage();
    }

    @Test
    void aBadShapeIsOneLineNamingTheKey() {
        List<String> conf = List.of("confidence");
        assertEquals("dModel must be >= 2, got 0", refusal(conf, 0, 2, 64));
        assertEquals("dModel must be >= 2, got 1", refusal(conf, 1, 1, 64));
        assertEquals("heads must be >= 1, got 0", refusal(conf, 32, 0, 64));
        assertEquals("ffDim must be >= 1, got 0", refusal(conf, 32, 2, 0));
        assertEquals("dModel 32 is not divisible by heads 5", refusal(conf, 32, 5, 64));
        assertEquals("dModel must be even (sinusoidal position encoding), got 33", refusal(conf, 33, 3, 64));
        assertEquals("features must list at least one policy feature", refusal(null, 32, 2, 64));
        assertTrue(refusal(List.of("confidence", "colour"), 32, 2, 64).contains("unknown policy feature 'colour'"));
        assertEquals(List.of(PolicyFeatures.CONFIDENCE, PolicyFeatures.MASK_BIT), PolicyConfig.checkShape(List.of("confidence", "mask_bit"), 32, 4, 64));
        // the shapes every shipped and committed policy has pass
        assertEquals(32, PolicyConfig.defaults(1).dModel());
        assertEquals(PolicyConfig.BLOCK, new PolicyConfig(List.of("confidence_logodds", "knob"), 32, 2, 64, 1).context());
    }
}
