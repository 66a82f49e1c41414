package dev.unmask.runs;

import dev.unmask.env.UnmaskException;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/** Where the shipped models live: beside the launcher (it sets unmask.home), else the working directory. */
public final class Paths {
    /** The dLLM a run gets when it names none, for the tasks of the built-in testbed (results/testbed/): the shipped model that learned each. */
    private static final Map<String, String> TESTBED_MODELS = Map.of("lag", "dllm-t1", "lag5", "dllm-t2", "lag48", "dllm-t4", "ducci", "dllm-t6",
            "lanes-columns", "dllm-t9");
    /**
     * Shipped models trained on several testbed tasks at once: the default for a command that mixes
     * those tasks (each task alone keeps its own model above, so earlier commands mean what they meant).
     */
    private static final SortedMap<String, Set<String>> MULTI_TASK_MODELS =   // sorted: the first that knows a mix wins, the same on every run
            Collections.unmodifiableSortedMap(new TreeMap<>(Map.of("dllm-t8", Set.of("lag48", "ducci"))));
    /** The default for every other task, and what every result made before the testbed ran on. */
    private static final String DEFAULT_MODEL = "dllm-a";

    private Paths() {
    }

    /** Testbed task -> the shipped model a run on it gets by default. */
    public static Map<String, String> testbedModels() {
        return TESTBED_MODELS;
    }

    /** Shipped model -> the testbed tasks it knows, for commands that mix them. */
    public static Map<String, Set<String>> multiTaskModels() {
        return MULTI_TASK_MODELS;
    }

    public static Path home() {
        return Path.of(System.getProperty("unmask.home", "."));
    }

    /**
     * The default dLLM for these tasks: the testbed model that learned them when they are testbed
     * tasks, models/dllm-a when none is (so every command written before the testbed still means
     * what it meant); a mix of testbed tasks gets the multi-task model that knows them all, and a mix
     * no shipped model knows says so.
     */
    public static Path defaultDllm(Collection<String> tasks) {
        TreeSet<String> models = new TreeSet<>();
        for (String t : tasks) models.add(TESTBED_MODELS.getOrDefault(t, DEFAULT_MODEL));
        if (models.size() > 1) {
            for (var m : MULTI_TASK_MODELS.entrySet()) {
                if (m.getValue().containsAll(tasks)) return home().resolve("models").resolve(m.getKey());
            }
            throw new UnmaskException("no shipped dLLM knows all of the tasks " + String.join(",", tasks) + " (their defaults: " + String.join(", ", models) + "); name one with --dllm");
        }
        return home().resolve("models").resolve(models.isEmpty() ? DEFAULT_MODEL : models.first());
    }
}
