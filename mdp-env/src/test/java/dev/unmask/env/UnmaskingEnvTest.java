package dev.unmask.env;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.mdp.*;
import dev.unmask.env.task.*;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class UnmaskingEnvTest {
    private final Task task = Tasks.byName("sort");
    private final List<Example> examples = task.dataset(Split.TEST, 4, 12);

    /** Unmasks every eligible position with confidence >= 0.85 (nothing otherwise: the env falls back). */
    static final class Above implements UnmaskPolicy {
        final List<StepObservation> seen = new ArrayList<>();

        public String name() {
            return "above";
        }

        public Map<String, Object> params() {
            return Map.of();
        }

        public boolean[][] select(StepObservation obs) {
            seen.add(obs);
            boolean[][] a = new boolean[obs.rows()][obs.genLength()];
            for (int r = 0; r < obs.rows(); r++)
                for (int i = 0; i < obs.genLength(); i++) a[r][i] = obs.eligible()[r][i] && obs.confidence()[r][i] >= 0.85f;
            return a;
        }
    }

    @Test
    void batchedRunMatchesOneByOneWithOneForwardPassPerStep() {
        FakeDenoiser batched = new FakeDenoiser(task, examples, 32);
        List<EpisodeResult> together = new UnmaskingEnv(batched, task, 32, 8, 0, Reward.DEFAULT).run(examples, 1, new Above());
        int maxNfe = together.stream().mapToInt(EpisodeResult::nfe).max().orElseThrow();
        assertEquals(maxNfe, batched.calls, "one forward pass per step for the whole batch");
        assertEquals(examples.size(), batched.maxBatch);

        FakeDenoiser single = new FakeDenoiser(task, examples, 32);
        int sum = 0;
        for (int i = 0; i < examples.size(); i++) {
            EpisodeResult alone = new UnmaskingEnv(single, task, 32, 8, 0, Reward.DEFAULT).run(List.of(examples.get(i)), 1, new Above()).get(0);
            assertArrayEquals(together.get(i).buffer(), alone.buffer());
            assertEquals(together.get(i).nfe(), alone.nfe());
            assertTrue(alone.correct(), "the fake denoiser always predicts the reference");
            sum += alone.nfe();
        }
        assertEquals(sum, single.calls);
        assertTrue(together.stream().mapToInt(EpisodeResult::nfe).distinct().count() > 1, "prompts of different length finish at different steps");
    }

    @Test
    void emptyStepsCostAnNfeAndWriteNothingUntilTheBufferWouldNotFinishInLSteps() {
        UnmaskingEnv env = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 8, 0, Reward.DEFAULT);
        env.allowEmptySteps(true);
        env.reset(List.of(examples.get(0)), 1);
        int steps = 0;
        while (!env.done()) {
            env.observe();
            UnmaskingEnv.StepRecord rec = env.step(new boolean[][]{new boolean[32]}); // the policy chooses nothing, every time
            steps++;
            // 32 masked positions: empty while steps taken + 32 < 2L = 64, then one forced position per step
            assertEquals(steps <= 32 ? 0 : 1, rec.unmasked()[0], "step " + steps);
            assertEquals(steps > 32, rec.fallback()[0], "a forced position counts as a fallback");
        }
        EpisodeResult r = env.results().get(0);
        assertEquals(64, r.nfe(), "32 empty steps, then 32 forced ones: never more than 2L");
        assertEquals(32, r.fallbacks());
        assertTrue(r.correct(), "the episode ends complete");
        // without the option an empty choice is never empty
        UnmaskingEnv strict = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 8, 0, Reward.DEFAULT);
        strict.reset(List.of(examples.get(0)), 1);
        strict.observe();
        assertEquals(1, strict.step(new boolean[][]{new boolean[32]}).unmasked()[0]);
    }

    @Test
    void semiArOnlyOffersTheActiveBlockAndAdvancesLeftToRight() {
        Above policy = new Above();
        new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 8, 0, Reward.DEFAULT).run(examples.subList(0, 3), 1, policy);
        int lastBlock = 0;
        for (StepObservation o : policy.seen) {
            for (int r = 0; r < o.rows(); r++) {
                for (int i = 0; i < 32; i++) {
                    if (o.eligible()[r][i]) assertTrue(i >= o.blockStart()[r] && i < o.blockStart()[r] + 8);
                    if (i < o.blockStart()[r]) assertFalse(o.masked()[r][i], "earlier blocks are finished");
                    if (i >= o.blockStart()[r] + 8) assertTrue(o.masked()[r][i], "later blocks stay masked");
                }
            }
            lastBlock = Math.max(lastBlock, o.blockIndex()[0]);
        }
        assertEquals(3, lastBlock);
    }

    @Test
    void emptySelectionFallsBackToTheMostConfidentAndIsRecorded() {
        UnmaskingEnv env = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 32, 0, Reward.DEFAULT);
        env.reset(examples.subList(0, 1), 1);
        StepObservation o = env.observe();
        int best = 0;
        for (int i = 1; i < 32; i++) if (o.confidence()[0][i] > o.confidence()[0][best]) best = i;
        UnmaskingEnv.StepRecord rec = env.step(new boolean[1][32]);
        assertTrue(rec.fallback()[0]);
        assertEquals(1, rec.unmasked()[0]);
        assertTrue(rec.applied()[0][best]);
        // one token per step via the fallback: NFE = L
        while (!env.done()) {
            env.observe();
            env.step(new boolean[1][32]);
        }
        EpisodeResult r = env.results().get(0);
        assertEquals(32, r.nfe());
        assertEquals(32, r.fallbacks());
        assertEquals(Reward.DEFAULT.of(true, 32, 32), r.reward(), 1e-12);
    }

    @Test
    void theObservationSaysWhereTheTopTokenIsEos() {
        UnmaskingEnv env = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 32, 0, Reward.DEFAULT);
        Example e = examples.get(0);
        env.reset(List.of(e), 1);
        StepObservation o = env.observe();
        Vocabulary vocab = Vocabulary.builtin();
        int[] target = Task.targetSequence(vocab, e, 32); // the fake's top token is the reference, EOS-padded
        int promptLength = vocab.encode(e.prompt()).length, eos = 0;
        for (int i = 0; i < 32; i++) {
            boolean isEos = target[promptLength + i] == vocab.eosId();
            assertEquals(isEos, o.topIsEos()[0][i], "position " + i);
            if (isEos) eos++;
        }
        assertTrue(eos > 0 && eos < 32, "the reference answer ends inside the buffer: " + eos + " EOS");
    }

    @Test
    void selectingAnIneligiblePositionIsAnError() {
        UnmaskingEnv env = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 8, 0, Reward.DEFAULT);
        env.reset(examples.subList(0, 1), 1);
        env.observe();
        boolean[][] a = new boolean[1][32];
        a[0][9] = true;
        UnmaskException e = assertThrows(UnmaskException.class, () -> env.step(a));
        assertEquals("episode 0 step 1: the action selects buffer position 9, which is not eligible (outside the active block [0, 8))", e.getMessage());
        boolean[][] first = new boolean[1][32];
        first[0][0] = true;
        env.step(first);
        env.observe();
        e = assertThrows(UnmaskException.class, () -> env.step(first));
        assertTrue(e.getMessage().contains("already unmasked"), e.getMessage());
    }

    @Test
    void badBlockLengthAndTemperatureAreRejected() {
        FakeDenoiser d = new FakeDenoiser(task, examples, 32);
        UnmaskException e = assertThrows(UnmaskException.class, () -> new UnmaskingEnv(d, task, 32, 12, 0, Reward.DEFAULT));
        assertEquals("block length 12 does not divide the buffer length 32", e.getMessage());
        assertThrows(UnmaskException.class, () -> new UnmaskingEnv(d, task, 32, 8, -1, Reward.DEFAULT));
        assertThrows(UnmaskException.class, () -> new UnmaskingEnv(d, task, 90, 90, 0, Reward.DEFAULT).reset(examples, 1));
    }

    @Test
    void klHistoryFollowsEachMaskedPositionAcrossSteps() {
        FakeDenoiser d = new FakeDenoiser(task, examples, 32);
        d.rightMassAtCall = call -> call == 1 ? 0.5 : 0.6; // the distribution moves once, then stays
        UnmaskingEnv env = new UnmaskingEnv(d, task, 32, 32, 0, Reward.DEFAULT);
        env.trackKl(2);
        env.reset(examples.subList(0, 1), 1);
        boolean[] first = new boolean[32];
        first[0] = true;
        StepObservation o1 = env.observe();
        assertTrue(Float.isNaN(o1.recentKl()[0][5][0]), "nothing to compare with at the first step");
        env.step(new boolean[][]{first});
        StepObservation o2 = env.observe();
        double moved = 0.6 * Math.log(0.6 / 0.5) + 0.4 * Math.log(0.4 / 0.5);
        assertEquals(moved, o2.recentKl()[0][5][0], 1e-6);
        assertTrue(Float.isNaN(o2.recentKl()[0][5][1]));
        boolean[] second = new boolean[32];
        second[1] = true;
        env.step(new boolean[][]{second});
        StepObservation o3 = env.observe();
        assertEquals(0.0, o3.recentKl()[0][5][0], 1e-9, "unchanged distribution: KL 0");
        assertEquals(moved, o3.recentKl()[0][5][1], 1e-6, "history shifts by one step");
        Above plain = new Above();
        new UnmaskingEnv(d, task, 32, 32, 0, Reward.DEFAULT).run(examples.subList(0, 1), 1, plain);
        assertNull(plain.seen.get(0).recentKl(), "a policy that does not ask gets no KL history");
    }

    @Test
    void rewardIsCorrectnessFirst() {
        Reward r = Reward.DEFAULT;
        assertEquals(0, r.of(false, 1, 64));
        assertEquals(1, r.of(true, 1, 64), 1e-12);
        assertEquals(0.5, r.of(true, 64, 64), 1e-12);
        assertTrue(r.of(true, 10, 64) > r.of(true, 20, 64));
        assertThrows(UnmaskException.class, () -> new Reward(1.5));
    }

    @Test
    void rewardStatesItsFormulaWithItsSpeedWeight() {
        // the formula travels in policy provenance; it must say what of() computes, constants included
        assertEquals("correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))", Reward.DEFAULT.formula());
        Reward r = new Reward(0.25);
        assertEquals("correct * (1 - 0.25 * (nfe - 1) / max(1, L - 1))", r.formula());
        assertEquals(1 - 0.25 * 9 / 63, r.of(true, 10, 64), 1e-12);
        assertEquals(1, r.of(true, 1, 1), 1e-12, "L = 1: the max(1, .) keeps it finite");
    }
}
