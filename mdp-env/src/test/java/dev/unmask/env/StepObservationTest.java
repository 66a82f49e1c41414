package dev.unmask.env;

import dev.unmask.env.mdp.*;
import dev.unmask.env.task.*;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** An observation is built one way (its builder), and a policy's own fallbacks travel back on a report of their own. */
class StepObservationTest {
    static StepObservation.Builder oneRow(int len, int blockLength) {
        float[] c = new float[len];
        boolean[] m = new boolean[len], e = new boolean[len];
        for (int i = 0; i < len; i++) {
            c[i] = i / (float) len;
            m[i] = true;
            e[i] = i < blockLength;
        }
        return StepObservation.builder(len, blockLength).statistics(new float[][]{c}, new float[][]{c.clone()}, new float[][]{c.clone()})
                .masks(new boolean[][]{m}, new boolean[][]{e}).blocks(new int[]{0}, new int[]{0}, new int[]{0}, new int[]{blockLength})
                .episodes(new int[]{0}, new SplittableRandom[]{new SplittableRandom(1)}, new int[]{0});
    }

    @Test
    void theBuilderGivesBackWhatItWasGivenAndToBuilderCopiesIt() {
        StepObservation o = oneRow(8, 4).build();
        assertEquals(8, o.genLength());
        assertEquals(4, o.blockLength());
        assertEquals(2, o.numBlocks());
        assertEquals(1, o.rows());
        assertEquals(4, o.eligibleCount(0));
        assertNull(o.recentKl(), "no KL history unless asked for");
        assertNull(o.topIsEos(), "no top-is-EOS unless the environment says");
        boolean[][] eos = {new boolean[8]};
        StepObservation withEos = o.toBuilder().topIsEos(eos).build();
        assertSame(eos, withEos.topIsEos());
        assertSame(o.confidence(), withEos.confidence());
        assertSame(o.rng(), withEos.rng());
        assertSame(o.maskedAtBlockStart(), withEos.maskedAtBlockStart());
        assertNotSame(o.fallbacks(), withEos.fallbacks(), "every observation has a fresh report");
    }

    @Test
    void aMissingPartIsRefused() {
        var noEpisodes = StepObservation.builder(8, 4).statistics(new float[1][8], new float[1][8], new float[1][8])
                .masks(new boolean[1][8], new boolean[1][8]).blocks(new int[1], new int[1], new int[1], new int[1]);
        IllegalStateException e = assertThrows(IllegalStateException.class, noEpisodes::build);
        assertTrue(e.getMessage().contains("episodes"), e.getMessage());
    }

    @Test
    void aFallbackReportStartsEmptyAndHoldsWhatThePolicyReported() {
        StepObservation o = oneRow(8, 4).build();
        assertFalse(o.fallbacks().reported(0));
        o.fallbacks().report(0);
        assertTrue(o.fallbacks().reported(0));
    }

    /** Takes the leftmost eligible position at every step; reports it as its own fallback on even steps. */
    static final class LeftmostReportingEvenSteps implements UnmaskPolicy {
        final List<Boolean> freshReports = new ArrayList<>();

        public String name() {
            return "leftmost";
        }

        public Map<String, Object> params() {
            return Map.of();
        }

        public boolean[][] select(StepObservation obs) {
            boolean[][] a = new boolean[obs.rows()][obs.genLength()];
            for (int r = 0; r < obs.rows(); r++) {
                freshReports.add(!obs.fallbacks().reported(r));
                for (int i = 0; i < obs.genLength(); i++) {
                    if (obs.eligible()[r][i]) {
                        a[r][i] = true;
                        break;
                    }
                }
                if (obs.step()[r] % 2 == 0) obs.fallbacks().report(r);
            }
            return a;
        }
    }

    @Test
    void theEnvironmentCountsTheStepsAPolicyReportedAsItsOwnFallbacks() {
        Task task = Tasks.byName("sort");
        List<Example> examples = task.dataset(Split.TEST, 4, 3);
        LeftmostReportingEvenSteps policy = new LeftmostReportingEvenSteps();
        List<EpisodeResult> out = new UnmaskingEnv(new FakeDenoiser(task, examples, 32), task, 32, 8, 0, Reward.DEFAULT).run(examples, 1, policy);
        for (EpisodeResult r : out) {
            assertEquals(32, r.nfe(), "one position per step");
            assertEquals(16, r.fallbacks(), "steps 0, 2, ..., 30 were reported");
        }
        assertFalse(policy.freshReports.contains(false), "a report never carries over to the next step's observation");
    }

    @Test
    void theEnvironmentSaysTheDllmsVocabularySize() {
        Task task = Tasks.byName("sort");
        List<Example> examples = task.dataset(Split.TEST, 4, 2);
        FakeDenoiser dllm = new FakeDenoiser(task, examples, 32);
        UnmaskingEnv env = new UnmaskingEnv(dllm, task, 32, 8, 0, Reward.DEFAULT);
        env.reset(examples, 1);
        assertEquals(dllm.vocabulary().size(), env.observe().vocabularySize());
        assertEquals(0, oneRow(8, 4).build().vocabularySize(), "0 when nobody said");
    }
}
