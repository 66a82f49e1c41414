package dev.unmask.heuristics;

import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import org.junit.jupiter.api.Test;

import static dev.unmask.heuristics.Obs.picked;
import static org.junit.jupiter.api.Assertions.*;

class HeuristicsTest {
    private static final float N = Float.NaN; // already unmasked

    @Test
    void thresholdTakesEveryPositionAtOrAboveTau() {
        var obs = Obs.full(0.95f, 0.5f, 0.9f, 0.91f, N, 0.2f);
        assertEquals("0,2,3", picked(new ConfidenceThreshold(0.9).select(obs)));
    }

    @Test
    void thresholdAlwaysTakesTheMostConfidentWhenAllAreBelow() {
        var obs = Obs.full(0.3f, 0.6f, 0.5f, 0.6f);
        assertEquals("1", picked(new ConfidenceThreshold(0.9).select(obs)), "tie between 1 and 3 goes to the lower position");
    }

    @Test
    void thresholdRespectsTheActiveBlockInTheLastBlock() {
        // B = 2, active block 2 (positions 4, 5); position 0 is very confident but not eligible
        var obs = Obs.of(new float[]{0.99f, N, N, N, 0.4f, 0.95f}, 2, 2, 0, 2);
        assertEquals("5", picked(new ConfidenceThreshold(0.9).select(obs)));
    }

    @Test
    void frontierRaisesTheBarBySlopeOverLForEachMaskedPositionToTheLeft() {
        // L = 8, slope 8: the log-odds bar ln(0.9 / 0.1) = 2.20 rises by 1 per masked position to the left
        var obs = Obs.full(N, 0.95f, N, 0.95f, 0.99f, 0.9995f, 0.95f, 0.5f);
        // 1: 0 masked before, 2.94 >= 2.20; 3: 1 before, 2.94 < 3.20; 4: 2 before, 4.60 >= 4.20; 5: 3 before, 7.60 >= 5.20; 6: 4 before, 2.94 < 6.20
        assertEquals("1,4,5", picked(new FrontierThreshold(0.9, 8).select(obs)));
        assertEquals(picked(new ConfidenceThreshold(0.9).select(obs)), picked(new FrontierThreshold(0.9, 0).select(obs)), "slope 0 is the threshold rule");
        assertEquals("5", picked(new FrontierThreshold(0.99999, 8).select(obs)), "none passes: the most confident one");
        var sameSpec = Heuristics.parse("frontier:tau=0.9,slope=8");
        assertEquals("1,4,5", picked(sameSpec.select(obs)));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("frontier:tau=1.0"));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("frontier:slope=-1"));
    }

    @Test
    void frontierWithFallback1AddsAPositionOnlyWhenNonePassesAndThenTheOneNearestItsBar() {
        // L = 8, slope 40: the bar ln(T / (1 - T)) rises by 5 per masked position to the left
        var obs = Obs.full(0.95f, 0.5f, 0.5f, 0.5f, 0.5f, 0.9999f, 0.5f, 0.5f);
        // tau 0.9: position 0 passes (2.94 >= 2.20); 5 is the most confident (9.21) but far below its bar (2.20 + 25)
        assertEquals("0,5", picked(new FrontierThreshold(0.9, 40).select(obs)), "the default always adds the most confident one");
        assertEquals("0", picked(new FrontierThreshold(0.9, 40, true).select(obs)));
        // tau 0.99: none passes; nearest its bar is 0 (2.94 - 4.60), not the most confident 5 (9.21 - 29.60)
        assertEquals("5", picked(new FrontierThreshold(0.99, 40).select(obs)));
        assertEquals("0", picked(new FrontierThreshold(0.99, 40, true).select(obs)));
        assertEquals("0", picked(Heuristics.parse("frontier:tau=0.99,slope=40,fallback=1").select(obs)));
        assertEquals("frontier(fallback=1.0,slope=40.0,tau=0.99)", Heuristics.parse("frontier:tau=0.99,slope=40,fallback=1").label());
        assertFalse(Heuristics.parse("frontier:tau=0.99,slope=40").label().contains("fallback"), "the default keeps older rows' labels");
        assertThrows(UnmaskException.class, () -> Heuristics.parse("frontier:fallback=0.5"));
    }

    @Test
    void topKFollowsTheLinearSchedule() {
        // block of 8 masked positions, 3 steps per block: 3, 3, then the rest (2)
        float[] conf = {0.1f, 0.8f, 0.3f, 0.9f, 0.7f, 0.2f, 0.6f, 0.5f};
        var topk = new ScheduledTopK(ScheduledTopK.Score.CONFIDENCE, 3);
        assertEquals("1,3,4", picked(topk.select(Obs.of(conf, 8, 0, 0, 8))));
        assertEquals("1,3,4", picked(topk.select(Obs.of(conf, 8, 0, 1, 8))));
        float[] last = {0.1f, N, 0.3f, N, N, N, N, N};
        assertEquals("0,2", picked(topk.select(Obs.of(last, 8, 0, 2, 8))), "final step of the block takes all that is left");
    }

    @Test
    void topKBudgetIsSplitAcrossBlocks() {
        // L = 8, B = 4: budget 4 steps -> 2 per block -> 2 positions per step
        float[] conf = {N, N, N, N, 0.2f, 0.9f, 0.4f, 0.8f};
        var topk = new ScheduledTopK(ScheduledTopK.Score.CONFIDENCE, 4);
        assertEquals("5,7", picked(topk.select(Obs.of(conf, 4, 1, 0, 4))));
        assertThrows(UnmaskException.class, () -> new ScheduledTopK(ScheduledTopK.Score.CONFIDENCE, 3).select(Obs.of(conf, 4, 1, 0, 4)),
                "3 steps cannot be split over 2 blocks");
    }

    @Test
    void singleMaskedPositionIsAlwaysTaken() {
        var obs = Obs.full(N, N, 0.01f, N);
        for (var p : new UnmaskPolicy[]{new ConfidenceThreshold(0.99), new FactorRule(0.01), new EntropyBounded(0),
                new ScheduledTopK(ScheduledTopK.Score.MARGIN, 4), new ScheduledTopK(ScheduledTopK.Score.RANDOM, 1)}) {
            assertEquals("2", picked(p.select(obs)), p.label());
        }
    }

    @Test
    void factorRuleAcceptsWhileRankTimesDoubtIsSmall() {
        // sorted: 0.9 (2*0.1=0.2), 0.7 (3*0.3=0.9), 0.6 (4*0.4=1.6 > 1) -> take 2
        var obs = Obs.full(0.6f, 0.9f, 0.7f, 0.1f);
        assertEquals("1,2", picked(new FactorRule(1.0).select(obs)));
        assertEquals("1", picked(new FactorRule(0.1).select(obs)), "top one always");
    }

    @Test
    void factorRuleAcceptsAConfidenceExactlyAtItsBound() {
        // rank 2, f = 0.3: (2 + 1)(1 - 0.9) = 0.3 exactly, so a confidence of 0.9f is accepted (in double
        // arithmetic 3 * (1 - 0.9f) = 0.30000007 > 0.3 would reject it); the float just below is not
        assertEquals("0,1", picked(new FactorRule(0.3).select(Obs.full(0.95f, 0.9f, 0.1f))));
        assertEquals("0", picked(new FactorRule(0.3).select(Obs.full(0.95f, Math.nextDown(0.9f), 0.1f))));
        // the same at other factors and ranks: ranks 1..m-1 certain, rank m at its bound c = 1 - f/(m+1)
        for (double f : new double[]{0.1, 0.2, 0.3, 0.5, 0.7, 1.0}) {
            for (int m = 2; m <= 6; m++) {
                float atBound = (float) (1 - f / (m + 1));
                float[] conf = new float[m + 1];
                java.util.Arrays.fill(conf, 0, m - 1, 1f);
                conf[m - 1] = atBound;
                conf[m] = 0f;
                String all = java.util.stream.IntStream.range(0, m).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","));
                assertEquals(all, picked(new FactorRule(f).select(Obs.full(conf))), "f=" + f + " m=" + m + " c=" + atBound);
                conf[m - 1] = Math.nextDown(atBound);
                String allButLast = all.substring(0, all.lastIndexOf(','));
                assertEquals(allButLast, picked(new FactorRule(f).select(Obs.full(conf))), "f=" + f + " m=" + m + " just below the bound");
            }
        }
    }

    @Test
    void entropyBoundedTakesTheLongestPrefixUnderGamma() {
        float[] conf = {0.5f, 0.5f, 0.5f, 0.5f};
        float[] h = {0.30f, 0.05f, 0.10f, 0.02f};
        // ascending: 3 (0.02), 1 (0.05), 2 (0.10), 0 (0.30); sums minus max: 0, 0.02, 0.07, 0.17
        assertEquals("1,2,3", picked(new EntropyBounded(0.1).select(Obs.withEntropy(conf, h))));
        assertEquals("3", picked(new EntropyBounded(0.0).select(Obs.withEntropy(conf, h))));
        assertEquals("0,1,2,3", picked(new EntropyBounded(1).select(Obs.withEntropy(conf, h))));
    }

    @Test
    void marginAndEntropyRankByTheirOwnScore() {
        var obs = Obs.full(0.5f, 0.6f, 0.7f, 0.8f);
        obs.margin()[0] = new float[]{0.9f, 0.1f, 0.2f, 0.3f};
        obs.entropy()[0] = new float[]{2f, 0.1f, 3f, 1f};
        assertEquals("0,3", picked(new ScheduledTopK(ScheduledTopK.Score.MARGIN, 2).select(obs)));
        assertEquals("1,3", picked(new ScheduledTopK(ScheduledTopK.Score.ENTROPY, 2).select(obs)));
    }

    @Test
    void randomIsSeededAndPicksOnlyEligible() {
        float[] conf = {N, 0.1f, 0.2f, N, 0.3f, 0.4f, 0.5f, 0.6f};
        StepObservation a = Obs.full(conf), b = Obs.full(conf);
        var rnd = new ScheduledTopK(ScheduledTopK.Score.RANDOM, 2);
        String pa = picked(rnd.select(a));
        assertEquals(pa, picked(rnd.select(b)));
        assertEquals(3, pa.split(",").length, "6 masked over 2 steps = 3 per step");
        assertFalse(pa.matches(".*\\b(0|3)\\b.*"), pa);
    }

    /** A one-row observation with a KL history per position (most recent first). */
    private static StepObservation withKl(StepObservation o, float[][] kl) {
        return o.toBuilder().recentKl(new float[][][]{kl}).build();
    }

    @Test
    void klassUnmasksExactlyTheConfidentPositionsThatStayedStable() {
        Klass klass = new Klass(0.6, 0.015, 2, 6);
        float n = Float.NaN;
        float[] conf = {0.9f, 0.95f, 0.5f, 0.8f, n, 0.7f};
        float[][] kl = {
                {0.001f, 0.002f}, // confident and stable for 2 steps: ready
                {0.001f, n},      // most confident, but seen only twice: not ready
                {0.001f, 0.001f}, // stable but not confident enough
                {0.02f, 0.001f},  // moved at the latest step
                {n, n},           // already unmasked
                {0.01f, 0.014f}}; // ready
        assertEquals("0,5", picked(klass.select(withKl(Obs.full(conf), kl))));
        assertEquals(2, klass.klHistory());
    }

    @Test
    void klassFallsBackToTheTopKScheduleWhenNothingIsReady() {
        Klass klass = new Klass(0.6, 0.015, 2, 6);
        float n = Float.NaN;
        float[] conf = {0.9f, 0.95f, 0.5f, 0.8f, n, 0.7f};
        float[][] unstable = new float[6][];
        for (int i = 0; i < 6; i++) unstable[i] = new float[]{0.5f, 0.5f};
        // 5 masked over a 6-step budget: one position per step, the most confident
        assertEquals("1", picked(klass.select(withKl(Obs.full(conf), unstable))));
        // semi-AR: position 0 is ready but outside the active block [2, 4), so only the block's ready positions are taken
        float[] two = {0.9f, 0.7f, 0.99f, 0.99f};
        float[][] stable = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
        assertEquals("2,3", picked(new Klass(0.6, 0.015, 2, 4).select(withKl(Obs.of(two, 2, 1, 0, 2), stable))));
        assertThrows(UnmaskException.class, () -> klass.select(Obs.full(conf)), "no KL history tracked: a clear error, not a silent top-k");
    }

    @Test
    void specsParseAndRejectNonsense() {
        assertEquals("threshold(tau=0.8)", Heuristics.parse("threshold:tau=0.8").label());
        assertEquals("topk(steps=16)", Heuristics.parse("topk:steps=16").label());
        assertEquals("eb(gamma=0.1)", Heuristics.parse("eb").label());
        assertThrows(UnmaskException.class, () -> Heuristics.parse("klass2"));
        assertEquals("klass(conf=0.9,history=3,kl=0.015,steps=32)", Heuristics.parse("klass:conf=0.9,history=3,steps=32").label());
        assertEquals("klass: history must be a whole number >= 1, got 1.5",
                assertThrows(UnmaskException.class, () -> Heuristics.parse("klass:history=1.5")).getMessage());
        assertThrows(UnmaskException.class, () -> Heuristics.parse("klass:history=0"));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("klass:tau=0.9"));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("threshold:k=3"));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("topk:steps=2.5"));
        assertThrows(UnmaskException.class, () -> Heuristics.parse("threshold:tau=1.5"));
    }
}
