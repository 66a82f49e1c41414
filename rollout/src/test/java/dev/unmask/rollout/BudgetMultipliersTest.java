package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;
import dev.unmask.env.mdp.Reward;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The knob as an NFE budget (knobReward budget): its reward, its multipliers' dual ascent, its config keys, its resume. */
class BudgetMultipliersTest {
    @Test
    void theBudgetRewardIsCorrectnessMinusTheMultiplierTimesTheRelativeOverrun() {
        assertEquals(1 - 2.0 * (10 - 8) / 8, Reward.budget(true, 10, 8, 2.0), 0);  // 0.5: over budget by a quarter
        assertEquals(0 - 2.0 * (10 - 8) / 8, Reward.budget(false, 10, 8, 2.0), 0); // a wrong answer pays the overrun too
        assertEquals(1 + 0.5 * (8 - 6) / 8.0, Reward.budget(true, 6, 8, 0.5), 0);  // under budget earns a little more
        assertEquals(1.0, Reward.budget(true, 40, 8, 0), 0, "multiplier 0: plain correctness");
        assertThrows(UnmaskException.class, () -> Reward.budget(true, 5, 0, 1));
        assertThrows(UnmaskException.class, () -> Reward.budget(true, 5, 8, -1));
        assertTrue(Reward.budgetFormula(5, 12, "x").contains("[5.0, 12.0]"));
    }

    @Test
    void binsCutTheRangeEquallyAndEachTakesOneProjectedDualAscentStep() {
        BudgetMultipliers m = new BudgetMultipliers(4, 12, 4, 0.5, 2.0); // bins [4,6) [6,8) [8,10) [10,12]
        assertEquals(List.of(0, 0, 1, 2, 3, 3, 0, 3), List.of(m.bin(4), m.bin(5.99), m.bin(6), m.bin(9.5), m.bin(10), m.bin(12), m.bin(1), m.bin(30)));
        // bin 0: budgets 5 and 4, NFE 6 and 6 -> mean overrun (0.2 + 0.5) / 2 = 0.35 -> 0.5 + 2 * 0.35 = 1.2
        // bin 1: budget 7, NFE 5 -> overrun -2/7 -> 0.5 - 4/7 < 0 -> floored at 0
        // bin 2: no rollouts -> unchanged; bin 3: budget 10, NFE 11 -> 0.5 + 2 * 0.1 = 0.7
        m.update(new int[]{6, 6, 5, 11}, new float[]{5, 4, 7, 10});
        List<Double> v = m.values();
        assertEquals(1.2, v.get(0), 1e-12);
        assertEquals(0.0, v.get(1), 0);
        assertEquals(0.5, v.get(2), 0);
        assertEquals(0.7, v.get(3), 1e-12);
        // the rewards read each rollout's own bin
        double[] r = m.rewards(new boolean[]{true, false}, new int[]{6, 6}, new float[]{5, 10});
        assertEquals(Reward.budget(true, 6, 5, v.get(0)), r[0], 0);
        assertEquals(Reward.budget(false, 6, 10, v.get(3)), r[1], 0);
        BudgetMultipliers copy = new BudgetMultipliers(4, 12, 4, 0, 2.0);
        copy.restore(v);
        assertEquals(v, copy.values());
        assertThrows(UnmaskException.class, () -> copy.restore(List.of(1.0)));
        assertEquals(0, new BudgetMultipliers(8, 8, 3, 0, 1).bin(8), "a single budget is one bin");
    }

    @Test
    void theBudgetKeysAreLeftOutOfTheJsonAtTheirDefaultsAndRoundTripWhenSet() throws Exception {
        String json = Json.MAPPER.writeValueAsString(TrainConfig.defaults());
        for (String k : List.of("knobReward", "budgetBins", "budgetMultiplier", "budgetDualStep", "budgetCentre")) assertFalse(json.contains(k), k);
        TrainConfig b = budgetConfig();
        String set = Json.MAPPER.writeValueAsString(b);
        for (String k : List.of("knobReward", "budgetBins", "budgetMultiplier", "budgetDualStep", "budgetCentre")) assertTrue(set.contains(k), k);
        assertEquals(b, Json.MAPPER.readValue(set, TrainConfig.class));
        assertEquals(TrainConfig.defaults(), Json.MAPPER.readValue(json, TrainConfig.class), "JSON without the keys reads as the defaults");
        assertTrue(b.knobIsBudget());
        assertFalse(TrainConfig.defaults().knobIsBudget());
    }

    @Test
    void aBadBudgetSettingIsRefusedWithOneLineNamingIt() {
        List<Object> knob = List.of("features", List.of("confidence", "knob"), "knobRange", List.of(5.0, 12.0));
        Object[][] bad = {
                {"knobReward", "deadline"},
                {"budgetBins", 0},
                {"budgetMultiplier", -1.0},
                {"budgetDualStep", Double.NaN},
                {"budgetDualStep", 1.0},             // without knobReward budget
                {"budgetBins", 4},                   // likewise
                {"knobReward", "budget", "budgetDualStep", 1.0},                                     // no knobRange
                {"knobReward", "budget", "features", List.of("confidence", "knob"), "knobRange", List.of(0.0, 12.0), "budgetDualStep", 1.0}, // lo 0
                {"knobReward", "budget", "features", List.of("confidence", "knob"), "knobRange", List.of(5.0, 12.0)}, // never enforced
                {"budgetCentre", 8.0},               // without knobReward budget
                {"knobReward", "budget", "features", List.of("confidence", "knob"), "knobRange", List.of(-3.0, 3.0), "budgetCentre", 3.0, "budgetDualStep", 1.0}, // budget 0
                {"features", List.of("confidence", "knob"), "knobRange", List.of(-3.0, 3.0)},                 // an alpha below 0
        };
        String[] names = {"knobReward", "budgetBins", "budgetMultiplier", "budgetDualStep", "budgetDualStep", "budgetBins", "knobRange", "knobRange", "budgetDualStep",
                "budgetCentre", "budgetCentre", "knobRange"};
        for (int i = 0; i < bad.length; i++) {
            Object[] kv = bad[i];
            UnmaskException e = assertThrows(UnmaskException.class, () -> TrainConfigTest.with(kv), List.of(kv).toString());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(names[i]), e.getMessage());
        }
        assertEquals("knobReward must be alpha or budget, got 'deadline'", assertThrows(UnmaskException.class, () -> TrainConfigTest.with("knobReward", "deadline")).getMessage());
        assertNotNull(TrainConfigTest.with(knob.get(0), knob.get(1), knob.get(2), knob.get(3), "knobReward", "budget", "budgetMultiplier", 1.0), "a fixed multiplier is enough");
        TrainConfig centred = TrainConfigTest.with("features", List.of("confidence", "knob"), "knobRange", List.of(-3.5, 3.5), "knobReward", "budget",
                "budgetCentre", 8.5, "budgetDualStep", 1.0);
        assertEquals(5.0, centred.budgetOf(-3.5), 0, "the knob is an offset from the centre");
        assertEquals(12.0, centred.budgetOf(3.5), 0);
    }

    static TrainConfig budgetConfig() {
        return TrainConfigTest.with("features", List.of("confidence", "knob"), "knobRange", List.of(5.0, 12.0), "knobReward", "budget",
                "budgetBins", 3, "budgetMultiplier", 0.25, "budgetDualStep", 2.0, "budgetCentre", 1.0);
    }

    @Test
    void aBudgetRunUpdatesItsMultipliersAndResumesThemExactly(@TempDir Path dir) throws Exception {
        TrainConfig c = PolicyTrainerTest.config("grpo", 4, "features", List.of("confidence", "knob"), "knobRange", List.of(-9.0, 9.0),
                "knobReward", "budget", "budgetBins", 3, "budgetDualStep", 1.0, "budgetCentre", 11.0);
        ChainDenoiser d = new ChainDenoiser();
        PolicyTrainer a = new PolicyTrainer(c, d);
        assertEquals(List.of(0.0, 0.0, 0.0), a.budgetMultipliers());
        var first = a.runIteration();
        assertEquals(a.budgetMultipliers(), first.budgetMultipliers(), "the report carries the multipliers after the step");
        assertTrue(first.budgetMultipliers().stream().anyMatch(x -> x > 0), "a fresh policy at p = 0.5 overruns the smallest budgets: " + first.budgetMultipliers());
        assertTrue(Json.writeLine(first).contains("budgetMultipliers"));
        assertFalse(Json.writeLine(new PolicyTrainer(PolicyTrainerTest.config("grpo", 1), d).runIteration()).contains("budgetMultipliers"),
                "other runs' metrics lines read as before");
        a.saveState(dir);
        var ra = a.runIteration();
        PolicyTrainer b = new PolicyTrainer(c, d);
        assertTrue(b.resume(dir));
        assertEquals(first.budgetMultipliers(), b.budgetMultipliers(), "resumed with the saved multipliers");
        var rb = b.runIteration();
        assertEquals(ra.meanReward(), rb.meanReward(), 0);
        assertEquals(ra.loss(), rb.loss(), 0);
        assertEquals(ra.budgetMultipliers(), rb.budgetMultipliers());
        // a budget config cannot resume another run's state (no multipliers in it)
        Path other = dir.resolve("other");
        new PolicyTrainer(PolicyTrainerTest.config("grpo", 4, "features", List.of("confidence", "knob"), "knobRange", List.of(2.0, 20.0)), d).saveState(other);
        UnmaskException e = assertThrows(UnmaskException.class, () -> new PolicyTrainer(c, d).resume(other));
        assertTrue(e.getMessage().contains("budget_multipliers"), e.getMessage());
    }
}
