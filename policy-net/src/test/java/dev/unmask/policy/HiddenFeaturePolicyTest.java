package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.mdp.StepObservation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class HiddenFeaturePolicyTest {
    private static StepObservation obs(float[][] hidden) {
        int len = 6, block = 3;
        float[] conf = {0.9f, 0.5f, Float.NaN, 0.7f, 0.6f, 0.8f};
        boolean[] masked = new boolean[len], eligible = new boolean[len];
        float[] margin = new float[len], entropy = new float[len];
        for (int i = 0; i < len; i++) {
            masked[i] = !Float.isNaN(conf[i]);
            eligible[i] = masked[i] && i < block;
        }
        return StepObservation.builder(len, block).statistics(new float[][]{conf}, new float[][]{margin}, new float[][]{entropy})
                .masks(new boolean[][]{masked}, new boolean[][]{eligible}).blocks(new int[]{0}, new int[]{0}, new int[]{0}, new int[]{2})
                .episodes(new int[]{0}, new SplittableRandom[]{new SplittableRandom(1)}, new int[]{0}).hidden(hidden).vocabularySize(24).build();
    }

    @Test
    void hiddenKReadsTheKthNumberOfThePositionAndIsGivenAtWrittenPositionsToo() {
        int w = HiddenFeatures.WIDTH;
        float[] h = new float[6 * w];
        for (int i = 0; i < h.length; i++) h[i] = i * 0.5f;
        StepObservation o = obs(new float[][]{h});
        List<PolicyFeatures> hidden = PolicyFeatures.parse(List.of("hidden_0", "hidden_3", "hidden_7"));
        assertTrue(hidden.stream().allMatch(PolicyFeatures::isHidden));
        assertFalse(PolicyFeatures.CONFIDENCE.isHidden() || PolicyFeatures.TOP_IS_EOS.isHidden());
        assertEquals(h[w + 3], PolicyFeatures.HIDDEN_3.value(o, 0, 1, 2), 0f);
        assertEquals(h[2 * w + 7], PolicyFeatures.HIDDEN_7.value(o, 0, 2, 2), 0f, "position 2 holds a token: its state is still given");
        // in a whole-buffer window the hidden columns hold every position's numbers, written or not
        PolicyConfig c = new PolicyConfig(List.of("confidence", "hidden_0", "hidden_5"), 32, 2, 64, 3, PolicyConfig.BUFFER);
        PolicyWindow win = PolicyWindow.of(c, o, null);
        for (int pos = 0; pos < 6; pos++) {
            assertEquals(h[pos * w], win.features()[pos * 3 + 1], 0f);
            assertEquals(h[pos * w + 5], win.features()[pos * 3 + 2], 0f);
        }
        LearnedPolicy reads = new LearnedPolicy(JavaPolicyNet.initial(c), 1.0, false, "h");
        assertTrue(reads.readsHidden());
        assertFalse(new LearnedPolicy(JavaPolicyNet.initial(PolicyConfig.defaults(1)), 1.0, false, "p").readsHidden());
        assertEquals(6, reads.select(o)[0].length, "the policy decides on an observation with hidden features");
    }

    @Test
    void aPolicyThatReadsHiddenFeaturesOnAnObservationWithoutThemIsOneLine() {
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyFeatures.HIDDEN_2.value(obs(null), 0, 0, 2));
        assertEquals("the policy reads hidden_2 but the observation carries no hidden-state features", e.getMessage());
        assertTrue(assertThrows(UnmaskException.class, () -> PolicyFeatures.parse(List.of("hidden_8"))).getMessage().contains("hidden_0 ... hidden_7"));
    }
}
