package dev.unmask.policy.graph;

import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyInputs;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class PolicyNetTest {
    /** One row; block [blockStart, blockStart + B) active; conf NaN = already unmasked. */
    static StepObservation obs(float[] conf, int blockLength, int block, long seed) {
        int len = conf.length;
        boolean[] masked = new boolean[len], eligible = new boolean[len];
        float[] margin = new float[len], entropy = new float[len];
        for (int i = 0; i < len; i++) {
            masked[i] = !Float.isNaN(conf[i]);
            eligible[i] = masked[i] && i / blockLength == block;
            margin[i] = masked[i] ? conf[i] / 2 : Float.NaN;
            entropy[i] = masked[i] ? 1 - conf[i] : Float.NaN;
        }
        return StepObservation.builder(len, blockLength).statistics(new float[][]{conf}, new float[][]{margin}, new float[][]{entropy})
                .masks(new boolean[][]{masked}, new boolean[][]{eligible}).blocks(new int[]{block * blockLength}, new int[]{block}, new int[]{0}, new int[]{blockLength})
                .episodes(new int[]{0}, new SplittableRandom[]{new SplittableRandom(seed)}, new int[]{0}).vocabularySize(24).build();
    }

    static float[] conf(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] c = new float[len];
        for (int i = 0; i < len; i++) c[i] = (float) r.nextDouble();
        return c;
    }

    @Test
    void isTinyComparedWithTheDllm() {
        PolicyNet net = new PolicyNet(PolicyConfig.defaults(1));
        long n = net.parameterCount();
        assertTrue(n > 1000 && n < 50_000, "parameters: " + n);
    }

    @Test
    void onlyEligiblePositionsAreChosenAndLogitsIgnoreTheBufferLength() {
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence", "margin", "entropy", "masked_fraction"), 32, 2, 64, 3));
        float[] c32 = conf(32, 5);
        c32[9] = Float.NaN; // already unmasked inside the active block
        StepObservation small = obs(c32, 8, 1, 1);
        float[] c64 = new float[64];
        java.util.Arrays.fill(c64, Float.NaN);
        System.arraycopy(c32, 8, c64, 40, 8); // the same block content, as block 5 of a 64-long buffer
        for (int i = 48; i < 64; i++) c64[i] = 0.3f; // later blocks, masked but not eligible
        StepObservation large = obs(c64, 8, 5, 1);
        float[][] a = net.logits(net.window(small)), b = net.logits(net.window(large));
        assertArrayEquals(a[0], b[0], 1e-6f, "a policy sees only its window: it runs unchanged on longer buffers");
        assertEquals(Float.NEGATIVE_INFINITY, a[0][1], "position 9 is not eligible");

        LearnedPolicy sampled = new LearnedPolicy(net, 1.0, true, "t");
        for (long seed = 0; seed < 20; seed++) {
            boolean[] act = sampled.select(obs(c32, 8, 1, seed))[0];
            int chosen = 0;
            for (int i = 0; i < 32; i++) {
                if (act[i]) {
                    chosen++;
                    assertTrue(i >= 8 && i < 16 && i != 9, "chose " + i);
                }
            }
            assertTrue(chosen >= 1);
        }
    }

    @Test
    void aWholeBufferPolicySeesEveryPositionButActsOnlyInTheActiveBlock(@TempDir Path dir) {
        PolicyConfig cfg = new PolicyConfig(List.of("confidence", "mask_bit", "buffer_step_fraction"), 32, 2, 64, 3, PolicyConfig.BUFFER);
        PolicyNet net = new PolicyNet(cfg);
        float[] c = conf(32, 5);
        c[3] = Float.NaN; // unmasked in an earlier block
        c[9] = Float.NaN; // unmasked inside the active block
        StepObservation o = obs(c, 8, 1, 1);
        PolicyWindow win = net.window(o);
        assertEquals(32, win.width(), "the whole buffer");
        assertEquals(0, win.blockStart()[0], "window index = buffer position");
        for (int j = 0; j < 32; j++) {
            assertEquals(0f, win.keyBias()[j], "every position is a key");
            assertEquals(j >= 8 && j < 16 && j != 9, win.eligible()[0][j], "eligible " + j);
            float conf = win.features()[j * 3], maskBit = win.features()[j * 3 + 1];
            assertEquals(Float.isNaN(c[j]) ? 0f : c[j], conf, 0f, "the dLLM's statistic, 0 where a token is written");
            assertEquals(Float.isNaN(c[j]) ? 0f : 1f, maskBit, 0f);
        }
        // what lies outside the active block moves the logits inside it (it is in view)
        float[] changed = c.clone();
        changed[30] = 0.01f;
        float[] a = net.logits(win)[0], b = net.logits(net.window(obs(changed, 8, 1, 1)))[0];
        boolean moved = false;
        for (int j = 8; j < 16; j++) if (j != 9 && Math.abs(a[j] - b[j]) > 1e-7) moved = true;
        assertTrue(moved, "a block-window policy could not see position 30");
        for (int j = 0; j < 32; j++) if (!(j >= 8 && j < 16 && j != 9)) assertEquals(Float.NEGATIVE_INFINITY, a[j], "position " + j);
        LearnedPolicy policy = new LearnedPolicy(net, 1.0, true, "t");
        for (long seed = 0; seed < 20; seed++) {
            boolean[] act = policy.select(obs(c, 8, 1, seed))[0];
            for (int i = 0; i < 32; i++) if (act[i]) assertTrue(i >= 8 && i < 16 && i != 9, "chose " + i);
        }
        // checkpoints keep the context
        PolicyCheckpoint.save(dir.resolve("p"), net);
        assertEquals(cfg, PolicyNet.load(dir.resolve("p")).config());
        assertEquals(PolicyConfig.BLOCK, new PolicyConfig(List.of("confidence"), 32, 2, 64, 1, null).context(), "a stored config without the key");
    }

    @Test
    void maskedBeforeCountsTheMaskedPositionsToTheLeftOverTheBufferLength() {
        float n = Float.NaN;
        StepObservation o = obs(new float[]{n, n, 0.5f, n, 0.9f, 0.2f, n, 0.7f}, 8, 0, 1);
        float[] expected = {0, 0, 0, 1, 1, 2, 3, 3};
        for (int pos = 0; pos < 8; pos++) {
            assertEquals(expected[pos] / 8f, PolicyFeatures.MASKED_BEFORE.value(o, 0, pos, 4), 0f, "position " + pos);
        }
        assertEquals(List.of(PolicyFeatures.MASKED_BEFORE), PolicyFeatures.parse(List.of("masked_before")));
    }

    @Test
    void entropyIsScaledByTheLogOfTheDllmsVocabularySize() {
        StepObservation o24 = obs(conf(8, 3), 8, 0, 1);
        for (int pos = 0; pos < 8; pos++) {
            float h = o24.entropy()[0][pos];
            // the shipped dllm-a to dllm-d have 24 tokens: exactly the value of the old fixed ln 24
            assertEquals(Float.floatToIntBits((float) (h / Math.log(24))), Float.floatToIntBits(PolicyFeatures.ENTROPY.value(o24, 0, pos, 8)));
            StepObservation o32 = o24.toBuilder().vocabularySize(32).build();
            assertEquals((float) (h / Math.log(32)), PolicyFeatures.ENTROPY.value(o32, 0, pos, 8));
        }
        StepObservation unknown = o24.toBuilder().vocabularySize(0).build();
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyFeatures.ENTROPY.value(unknown, 0, 0, 8));
        assertTrue(e.getMessage().contains("vocabulary size"), e.getMessage());
    }

    @Test
    void topIsEosIsOneWhereTheDllmsTopTokenIsEosAndZeroWhereThePositionHoldsAToken() {
        float n = Float.NaN;
        StepObservation plain = obs(new float[]{n, 0.5f, 0.9f, 0.2f}, 4, 0, 1);
        boolean[][] topIsEos = {{true, false, true, true}}; // position 0 is not masked: no prediction to read
        StepObservation o = plain.toBuilder().topIsEos(topIsEos).build();
        assertEquals(0f, PolicyFeatures.TOP_IS_EOS.value(o, 0, 1, 3));
        assertEquals(1f, PolicyFeatures.TOP_IS_EOS.value(o, 0, 2, 3));
        PolicyInputs in = PolicyInputs.of(List.of(PolicyFeatures.CONFIDENCE, PolicyFeatures.TOP_IS_EOS), o, null, true);
        float[] f = in.features();
        assertEquals(0f, f[1], "position 0 holds a token: a dLLM statistic is 0 there");
        assertEquals(0f, f[3]);
        assertEquals(1f, f[5]);
        assertEquals(1f, f[7]);
        var e = assertThrows(UnmaskException.class, () -> PolicyFeatures.TOP_IS_EOS.value(plain, 0, 1, 3));
        assertTrue(e.getMessage().contains("top_is_eos"), e.getMessage());
        assertEquals(List.of(PolicyFeatures.TOP_IS_EOS), PolicyFeatures.parse(List.of("top_is_eos")));
    }

    @Test
    void aKnobConditionedPolicyReadsItsKnobAtEveryPositionAndSaysWhichItWasGiven() {
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence", "knob"), 32, 2, 64, 3));
        StepObservation o = obs(conf(16, 5), 8, 1, 1);
        PolicyWindow win = net.window(o, new float[]{2.5f});
        for (int j = 0; j < 8; j++) if (win.eligible()[0][j]) assertEquals(2.5f, win.features()[j * 2 + 1], "knob at window index " + j);
        assertNotEquals(net.logits(win)[0][0], net.logits(net.window(o, new float[]{0f}))[0][0], "the knob moves the logits");
        UnmaskException e = assertThrows(UnmaskException.class, () -> net.window(o));
        assertTrue(e.getMessage().contains("no knob was given"), e.getMessage());
        LearnedPolicy unset = new LearnedPolicy(net, 1.0, false, "p");
        LearnedPolicy fixed = unset.withKnob(2.5);
        assertEquals(2.5, fixed.params().get("knob"));
        // a copy: the policy it came from still has no knob, and a second copy leaves the first alone
        assertNotSame(unset, fixed);
        assertFalse(unset.params().containsKey("knob"), unset.params().toString());
        assertThrows(UnmaskException.class, () -> unset.decide(o), "the original still reads no knob");
        LearnedPolicy other = fixed.withKnob(0.0);
        assertEquals(2.5, fixed.params().get("knob"));
        assertEquals(0.0, other.params().get("knob"));
        assertTrue(fixed.label().contains("knob=2.5"), fixed.label());
        // per episode (training): row r reads the knob of its episode id
        LearnedPolicy perEpisode = new LearnedPolicy(net, 1.0, false, "p").withEpisodeKnobs(new float[]{2.5f});
        assertArrayEquals(fixed.decide(o)[0].action(), perEpisode.decide(o)[0].action());
        assertThrows(UnmaskException.class, () -> new LearnedPolicy(net, 1.0, false, "p").withKnob(Double.NaN));
        assertThrows(UnmaskException.class, () -> new LearnedPolicy(net, 1.0, false, "p").withKnob(Double.POSITIVE_INFINITY));
        // a budget knob is an offset from the run's budgetCentre: below 0 is a knob like any other
        assertTrue(new LearnedPolicy(net, 1.0, false, "p").withKnob(-1).label().contains("knob=-1.0"));
    }

    @Test
    void logProbabilityMatchesWhatWasDoneIncludingTheFallback() {
        PolicyNet net = new PolicyNet(PolicyConfig.defaults(2));
        float[] c = conf(16, 7);
        StepObservation o = obs(c, 16, 0, 11);
        float[][] logits = net.logits(net.window(o));
        LearnedPolicy.Decision d = new LearnedPolicy(net, 1.0, true, "t").decide(o)[0];
        double expected = 0;
        for (int j = 0; j < 16; j++) {
            double p = 1 / (1 + Math.exp(-logits[0][j]));
            boolean taken = d.action()[j] && !d.fallback();
            expected += Math.log(taken ? p : 1 - p);
        }
        assertEquals(expected, d.logProb(), 1e-9);

        // push every logit far down: nothing is sampled, the most probable position is taken, and
        // the log-probability is that of the empty sample
        net.sd.getVariable("head.bias").getArr().assign(-30);
        LearnedPolicy.Decision f = new LearnedPolicy(net, 1.0, true, "t").decide(obs(c, 16, 0, 11))[0];
        assertTrue(f.fallback());
        float[][] low = net.logits(net.window(o));
        int best = 0;
        for (int j = 1; j < 16; j++) if (low[0][j] > low[0][best]) best = j;
        int chosen = 0;
        for (boolean x : f.action()) if (x) chosen++;
        assertEquals(1, chosen);
        assertTrue(f.action()[best]);
        assertTrue(f.logProb() > -1e-6, "log P(empty sample) ~ 0 when every p ~ 0");
        // training as in the paper's code: the empty sample stays empty, with the same log-probability
        LearnedPolicy.Decision empty = new LearnedPolicy(net, 1.0, true, "t").allowEmptySteps(true).decide(obs(c, 16, 0, 11))[0];
        assertFalse(empty.fallback());
        for (boolean x : empty.action()) assertFalse(x);
        assertEquals(f.logProb(), empty.logProb(), 0.0);
    }

    @Test
    void temperatureAndGreedyBehaveAsDocumented() {
        PolicyNet net = new PolicyNet(PolicyConfig.defaults(4));
        net.sd.getVariable("head.bias").getArr().assign(30);
        StepObservation o = obs(conf(16, 1), 16, 0, 1);
        boolean[] greedy = new LearnedPolicy(net, 1.0, false, "t").select(o)[0];
        for (boolean x : greedy) assertTrue(x, "p ~ 1 everywhere: greedy takes all");
        assertThrows(UnmaskException.class, () -> new LearnedPolicy(net, 0, false, "t"));
    }

    @Test
    void checkpointRoundTripsBitForBitAndRejectsCorruption(@TempDir Path dir) throws Exception {
        PolicyNet net = new PolicyNet(PolicyConfig.defaults(9));
        PolicyCheckpoint.save(dir.resolve("p"), net);
        PolicyNet back = PolicyNet.load(dir.resolve("p"));
        assertEquals(net.config(), back.config());
        StepObservation o = obs(conf(16, 3), 16, 0, 1);
        assertArrayEquals(net.logits(net.window(o))[0], back.logits(back.window(o))[0], 0f);
        PolicyCheckpoint.save(dir.resolve("p2"), back);
        assertArrayEquals(Files.readAllBytes(dir.resolve("p/policy.safetensors")), Files.readAllBytes(dir.resolve("p2/policy.safetensors")));
        Path w = dir.resolve("p/policy.safetensors");
        byte[] bytes = Files.readAllBytes(w);
        bytes[bytes.length - 1] ^= 1;
        Files.write(w, bytes);
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyNet.load(dir.resolve("p")));
        assertTrue(e.getMessage().contains("fails its SHA-256 check"), e.getMessage());
        assertThrows(UnmaskException.class, () -> new PolicyConfig(List.of("colour"), 32, 2, 64, 1));
    }
}
