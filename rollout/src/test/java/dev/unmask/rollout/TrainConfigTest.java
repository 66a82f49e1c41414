package dev.unmask.rollout;

import dev.unmask.policy.PolicyConfig;
import dev.unmask.env.io.Json;
import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

class TrainConfigTest {
    /** The defaults with the given components replaced (key, value, key, value, ...), through the canonical constructor. */
    static TrainConfig with(Object... keyValues) {
        Map<String, Object> set = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) set.put((String) keyValues[i], keyValues[i + 1]);
        TrainConfig d = TrainConfig.defaults();
        RecordComponent[] comps = TrainConfig.class.getRecordComponents();
        Object[] args = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        try {
            for (int i = 0; i < comps.length; i++) {
                types[i] = comps[i].getType();
                args[i] = set.containsKey(comps[i].getName()) ? set.remove(comps[i].getName()) : comps[i].getAccessor().invoke(d);
            }
            assertTrue(set.isEmpty(), "no such components: " + set.keySet());
            return TrainConfig.class.getDeclaredConstructor(types).newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new AssertionError(e);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theDefaultsAreTheOnesEveryRunWithoutAConfigFileHasUsed() throws Exception {
        // pinned: a run that leaves a key out gets this value, and committed runs recorded it
        String expected = "{\"algorithm\":\"grpo\",\"task\":\"sudoku\",\"genLength\":32,\"blockLength\":32,\"iterations\":60,"
                + "\"promptsPerIteration\":16,\"groupSize\":8,\"epochs\":2,\"minibatch\":256,\"learningRate\":0.003,"
                + "\"clipEpsilon\":0.2,\"entropyCoef\":0.001,\"valueCoef\":0.5,\"gamma\":1.0,\"gaeLambda\":0.95,"
                + "\"klCoef\":0.0,\"maxGradNorm\":1.0,\"speedWeight\":0.5,\"seed\":1,\"checkpointEvery\":10,"
                + "\"shuffleRewards\":false,\"dModel\":32,\"heads\":2,\"ffDim\":64,\"features\":[\"confidence\"],"
                + "\"initUnmaskProb\":0.1,\"groupStdScaling\":false,\"lossNormalisation\":\"episode\","
                + "\"rewardForm\":\"linear\",\"rewardAlpha\":1.0,\"lrSchedule\":\"linear\",\"warmupIterations\":0,"
                + "\"weightDecay\":0.0,\"policyContext\":\"block\",\"knobRange\":[],\"emptySteps\":false,"
                + "\"initThreshold\":0.0,\"initFrontierSlope\":0.0,\"initKnobGain\":0.0,\"policyUpdate\":\"fast\"}";
        assertEquals(expected, Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(TrainConfig.defaults()));
        List<String> keys = Arrays.stream(TrainConfig.class.getRecordComponents()).map(RecordComponent::getName).toList();
        assertEquals(keys, List.copyOf(TrainConfig.DEFAULTS.keySet()), "one default per key, in the record's order");
        assertSame(TrainConfig.defaults(), TrainConfig.defaults());
        assertThrows(UnsupportedOperationException.class, () -> TrainConfig.DEFAULTS.put("task", "arith"));
    }

    @Test
    void everyNumericFieldRejectsABadValueWithOneLineNamingIt() {
        Map<String, List<Object>> bad = new LinkedHashMap<>();
        bad.put("genLength", List.of(0));
        bad.put("blockLength", List.of(0, -8));
        bad.put("iterations", List.of(0));
        bad.put("promptsPerIteration", List.of(0));
        bad.put("groupSize", List.of(0));
        bad.put("epochs", List.of(0));
        bad.put("minibatch", List.of(0));
        bad.put("learningRate", List.of(0.0, -1e-3, Double.NaN, Double.POSITIVE_INFINITY));
        bad.put("clipEpsilon", List.of(0.0, 1.0, Double.NaN));
        bad.put("entropyCoef", List.of(-0.1, Double.NaN));
        bad.put("valueCoef", List.of(-0.1, Double.POSITIVE_INFINITY));
        bad.put("gamma", List.of(-0.1, 1.5));
        bad.put("gaeLambda", List.of(1.01, Double.NaN));
        bad.put("klCoef", List.of(-1e-3, Double.NaN));
        bad.put("maxGradNorm", List.of(-1.0, Double.NaN));
        bad.put("speedWeight", List.of(-0.5, 2.0));
        bad.put("checkpointEvery", List.of(0, -5));
        bad.put("dModel", List.of(0, 33));
        bad.put("heads", List.of(0, 5));
        bad.put("ffDim", List.of(0));
        bad.put("initUnmaskProb", List.of(0.0, 1.0, Double.NaN));
        bad.put("initThreshold", List.of(-0.1, 1.0, Double.NaN));
        bad.put("initFrontierSlope", List.of(-1.0, Double.NaN, Double.POSITIVE_INFINITY));
        bad.put("initKnobGain", List.of(-1.0, Double.NaN, Double.POSITIVE_INFINITY));
        bad.put("rewardAlpha", List.of(-1.0, Double.NaN));
        bad.put("warmupIterations", List.of(-1));
        bad.put("weightDecay", List.of(-0.1, Double.POSITIVE_INFINITY));
        bad.put("budgetMultiplier", List.of(-1.0, Double.NaN));
        bad.put("budgetDualStep", List.of(-0.5, Double.POSITIVE_INFINITY));
        bad.put("budgetCentre", List.of(Double.NaN, Double.NEGATIVE_INFINITY));
        // every numeric field is covered (the seed may be any long)
        Set<String> numeric = new TreeSet<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            if (c.getType() == int.class || c.getType() == double.class || c.getType() == long.class) numeric.add(c.getName());
        }
        numeric.remove("seed");
        assertEquals(numeric, new TreeSet<>(bad.keySet()));
        bad.forEach((key, values) -> {
            for (Object v : values) {
                UnmaskException e = assertThrows(UnmaskException.class, () -> with(key, v), key + "=" + v);
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                assertTrue(e.getMessage().contains(key), key + "=" + v + ": " + e.getMessage());
            }
        });
        assertEquals("checkpointEvery must be >= 1, got 0", assertThrows(UnmaskException.class, () -> with("checkpointEvery", 0)).getMessage());
        // the policy's shape is checked by PolicyConfig, with the same line as a stored policy config would get
        for (Object[] shape : new Object[][]{{"dModel", 33}, {"heads", 5}, {"dModel", 0}, {"ffDim", 0}}) {
            TrainConfig d = TrainConfig.defaults();
            int dModel = shape[0].equals("dModel") ? (int) shape[1] : d.dModel(), heads = shape[0].equals("heads") ? (int) shape[1] : d.heads();
            int ffDim = shape[0].equals("ffDim") ? (int) shape[1] : d.ffDim();
            String fromPolicy = assertThrows(UnmaskException.class, () -> PolicyConfig.checkShape(d.features(), dModel, heads, ffDim)).getMessage();
            assertEquals(fromPolicy, assertThrows(UnmaskException.class, () -> with(shape[0], shape[1])).getMessage());
        }
        assertEquals(new PolicyConfig(List.of("confidence"), 32, 2, 64, 1, "block"), TrainConfig.defaults().policyConfig());
        assertEquals("learningRate must be a finite number > 0, got NaN",
                assertThrows(UnmaskException.class, () -> with("learningRate", Double.NaN)).getMessage());
        assertThrows(UnmaskException.class, () -> with("features", List.of()));
        assertThrows(UnmaskException.class, () -> with("algorithm", "a2c"));
        assertEquals("lossNormalisation must be step, episode or token, got 'sequence'",
                assertThrows(UnmaskException.class, () -> with("lossNormalisation", "sequence")).getMessage());
        assertEquals(5, with("checkpointEvery", 5).checkpointEvery(), "a good value passes");
        assertEquals("rewardForm must be linear or alpha, got 'additive'", assertThrows(UnmaskException.class, () -> with("rewardForm", "additive")).getMessage());
        assertEquals("lrSchedule must be linear or cosine, got 'step'", assertThrows(UnmaskException.class, () -> with("lrSchedule", "step")).getMessage());
        assertEquals("policyUpdate must be fast, fast-eligible or samediff, got 'cuda'", assertThrows(UnmaskException.class, () -> with("policyUpdate", "cuda")).getMessage());
    }

    @Test
    void aKnobRangeNeedsTheKnobFeatureAndTheOtherWayRound() {
        assertEquals(List.of(0.0, 4.0), with("features", List.of("confidence", "knob"), "knobRange", List.of(0.0, 4.0)).knobRange());
        assertEquals("knobRange is set but features do not list knob: the policy could not see the trade-off it is asked for",
                assertThrows(UnmaskException.class, () -> with("knobRange", List.of(0.0, 4.0))).getMessage());
        assertEquals("features list knob but knobRange is empty: set knobRange: [lo, hi] (alphas to train for)",
                assertThrows(UnmaskException.class, () -> with("features", List.of("confidence", "knob"))).getMessage());
        for (List<Double> bad : List.of(List.of(1.0), List.of(2.0, 1.0), List.of(-1.0, 1.0), List.of(0.0, Double.POSITIVE_INFINITY))) {
            UnmaskException e = assertThrows(UnmaskException.class, () -> with("features", List.of("knob"), "knobRange", bad));
            assertTrue(e.getMessage().startsWith("knobRange must be [lo, hi]"), e.getMessage());
        }
    }

    @Test
    void learningRateSchedulesWarmUpThenDecayToATenth() {
        TrainConfig linear = with("iterations", 100, "learningRate", 1e-3);
        for (int it = 0; it < 100; it++) {
            // bit for bit the expression of every run before schedules existed, so recorded runs replay exactly
            assertEquals(1e-3 * (1 - 0.9 * it / (double) 100), linear.learningRateAt(it), 0.0, "iteration " + it);
        }
        TrainConfig cosine = with("iterations", 100, "learningRate", 1e-3, "lrSchedule", "cosine", "warmupIterations", 10);
        assertEquals(1e-4, cosine.learningRateAt(0), 1e-15, "warm-up starts at lr / warmup");
        assertEquals(1e-3, cosine.learningRateAt(9), 1e-15, "and reaches lr at its last iteration");
        assertEquals(1e-3, cosine.learningRateAt(10), 1e-15, "the cosine starts at lr");
        assertEquals(1e-3 * (0.1 + 0.45), cosine.learningRateAt(55), 1e-12, "half way: the mean of lr and lr / 10");
        assertEquals(1e-4, cosine.learningRateAt(100), 1e-15, "a tenth at the end");
        assertEquals(1e-4, cosine.learningRateAt(150), 1e-15, "and after it (a run extended past its schedule)");
    }

    @Test
    void theAlphaRewardIsThePapersAndTheLinearOneStaysTheDefault() {
        assertEquals("correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))", TrainConfig.defaults().reward().formula());
        TrainConfig paper = with("rewardForm", "alpha", "rewardAlpha", 2.0);
        assertEquals("correct * ((L - min(nfe, L) + 1) / L) ^ 2.0", paper.reward().formula());
        assertEquals(1.0, paper.reward().of(true, 1, 32), 1e-12, "one step: (32 / 32)^2");
        assertEquals(Math.pow(17 / 32.0, 2), paper.reward().of(true, 16, 32), 1e-12);
        assertEquals(Math.pow(1 / 32.0, 2), paper.reward().of(true, 40, 32), 1e-12, "steps past L count as L");
        assertEquals(0, paper.reward().of(false, 1, 32));
        assertEquals(1.0, with("rewardForm", "alpha", "rewardAlpha", 0.0).reward().of(true, 32, 32), 1e-12, "alpha 0: correctness only");
    }

    @Test
    void onlyKeysThatChangeResultsCountAsADifferentRun() {
        TrainConfig run = with("iterations", 60);
        assertEquals(List.of(), with("iterations", 80, "checkpointEvery", 1).differencesThatChangeResults(run), "extending, saving more often");
        assertEquals(List.of(), with("valueCoef", 0.9, "gamma", 0.5).differencesThatChangeResults(run), "PPO's critic keys do not touch GRPO");
        assertEquals(List.of("gamma (1.0 -> 0.5)"), with("algorithm", "ppo", "gamma", 0.5).differencesThatChangeResults(with("algorithm", "ppo")));
        assertEquals(List.of("iterations (60 -> 40: may only grow)", "learningRate (0.003 -> 0.001)", "lossNormalisation (episode -> step)"),
                with("iterations", 40, "learningRate", 1e-3, "lossNormalisation", "step").differencesThatChangeResults(run));
        assertEquals(List.of("features ([confidence] -> [confidence_logodds])"),
                with("features", List.of("confidence_logodds")).differencesThatChangeResults(run));
    }
}
