package dev.unmask.env.task;

import dev.unmask.env.UnmaskException;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The built-in task families, by name. */
public final class Tasks {
    private static final Map<String, Task> BY_NAME = new TreeMap<>();

    static {
        for (Task t : List.of(new ArithmeticTask(ArithmeticTask.Trace.RESTATE), new ArithmeticTask(ArithmeticTask.Trace.RUNNING),
                new ArithmeticTask(ArithmeticTask.Trace.CHAIN), new SudokuTask(), new SortTask(),
                new EuclidTask(), new HappyTask(), new ReverseAddTask(), new FibonacciTask(), LaggedSumTask.shortAnswers(), LaggedSumTask.longAnswers(), LaggedSumTask.atLeast48Digits(), new DucciTask(), new LanesTask(), new LanesColumnsTask())) BY_NAME.put(t.name(), t);
    }

    private Tasks() {
    }

    public static Task byName(String name) {
        Task t = BY_NAME.get(name);
        if (t == null) throw new UnmaskException("unknown task '" + name + "' (known: " + String.join(", ", BY_NAME.keySet()) + ")");
        return t;
    }

    public static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }
}
