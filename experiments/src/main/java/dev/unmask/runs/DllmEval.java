package dev.unmask.runs;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Held-out accuracy of a dLLM on its own, under careful decoding (one token per step, most confident
 * first) and aggressive decoding (a fixed 4 and 8 tokens per step, and Fast-dLLM's threshold 0.9),
 * in full diffusion and semi-AR with blocks of 8.
 */
public final class DllmEval {
    private DllmEval() {
    }

    /**
     * The careful and aggressive settings for each task, on the same held-out prompts per task.
     *
     * @param onRow called with each row as it is measured (progress)
     */
    public static List<EvalRow> rows(Denoiser dllm, List<String> tasks, Split split, long seed, int n, int batch, Consumer<EvalRow> onRow) {
        List<EvalRow> rows = new ArrayList<>();
        for (String name : tasks) {
            Task task = Tasks.byName(name);
            int len = task.defaultGenLength();
            List<Example> heldOut = task.dataset(split, seed, n);
            // careful: one token per step, most confident first (full diffusion and semi-AR B=8);
            // aggressive: a fixed 4 and 8 tokens per step, and Fast-dLLM's threshold 0.9
            String[][] grid = {
                    {"topk:steps=" + len, Integer.toString(len)},
                    {"topk:steps=" + len, "8"},
                    {"topk:steps=" + len / 4, Integer.toString(len)},
                    {"topk:steps=" + len / 4, "8"},
                    {"topk:steps=" + len / 8, Integer.toString(len)},
                    {"topk:steps=" + len / 8, "8"},
                    {"threshold:tau=0.9", Integer.toString(len)},
                    {"threshold:tau=0.9", "8"},
            };
            for (String[] g : grid) {
                UnmaskPolicy policy = Heuristics.parse(g[0]);
                EvalRow row = Evaluator.evaluate(dllm, task, len, Integer.parseInt(g[1]), policy, heldOut, split, batch, seed, null).row();
                rows.add(row);
                onRow.accept(row);
            }
        }
        return rows;
    }

    /** Held-out accuracy per task with one token per step, most confident first, full diffusion. */
    public static Map<String, Double> carefulAccuracy(Denoiser dllm, List<String> tasks, int n, long seed, Split split) {
        Map<String, Double> acc = new TreeMap<>();
        for (String name : new TreeSet<>(tasks)) { // a task may be listed twice to weight training
            Task task = Tasks.byName(name);
            int len = task.defaultGenLength();
            UnmaskPolicy careful = Heuristics.parse("topk:steps=" + len);
            acc.put(name, Evaluator.evaluate(dllm, task, len, len, careful, split, seed, n, 64, null).row().accuracy());
        }
        return acc;
    }
}
