package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

class TrainConfigTest {
    /** The defaults with one component replaced, through the canonical constructor. */
    static TrainConfig with(String key, Object value) {
        TrainConfig d = TrainConfig.defaults();
        RecordComponent[] comps = TrainConfig.class.getRecordComponents();
        Object[] args = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        boolean found = false;
        try {
            for (int i = 0; i < comps.length; i++) {
                types[i] = comps[i].getType();
                args[i] = comps[i].getName().equals(key) ? value : comps[i].getAccessor().invoke(d);
                found |= comps[i].getName().equals(key);
            }
            assertTrue(found, "no component " + key);
            return TrainConfig.class.getDeclaredConstructor(types).newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new AssertionError(e);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
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
        assertEquals("learningRate must be a finite number > 0, got NaN",
                assertThrows(UnmaskException.class, () -> with("learningRate", Double.NaN)).getMessage());
        assertThrows(UnmaskException.class, () -> with("features", List.of()));
        assertThrows(UnmaskException.class, () -> with("algorithm", "a2c"));
        assertEquals(5, with("checkpointEvery", 5).checkpointEvery(), "a good value passes");
    }
}
