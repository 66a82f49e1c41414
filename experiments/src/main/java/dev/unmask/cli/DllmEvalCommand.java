package dev.unmask.cli;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.runs.ResultTables;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Held-out accuracy of a built-in dLLM under careful and aggressive decoding.")
final class DllmEvalCommand implements Callable<Integer> {
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM (--checkpoint is the older name): a built-in checkpoint folder, or an ONNX export folder or its descriptor.json.")
    Path checkpoint;
    @Option(names = "--tasks", split = ",", defaultValue = "arith,sudoku,sort") List<String> tasks;
    @Option(names = "--n", defaultValue = "200", description = "Held-out prompts per task.") int n;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--batch", defaultValue = "64", description = "Episodes decoded together (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--split", defaultValue = "test", converter = Splits.class,
            description = "Held-out prompts: validation (to tune on) or test (to report once) (default: ${DEFAULT-VALUE}).")
    Split split;
    @Option(names = "--out", description = "Also write the table as CSV + Markdown + JSON (and a manifest) into this folder.") Path out;
    @picocli.CommandLine.Mixin
    DllmEngineOption engine = new DllmEngineOption();
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        java.time.Instant started = java.time.Instant.now();
        if (checkpoint == null) throw new dev.unmask.env.UnmaskException("missing required option --dllm DIR: the dLLM to evaluate");
        tasks.forEach(Tasks::byName);
        if (n <= 0) throw new dev.unmask.env.UnmaskException("--n must be at least 1, got " + n);
        if (batch <= 0) throw new dev.unmask.env.UnmaskException("--batch must be at least 1, got " + batch);
        if (out != null) dev.unmask.env.io.OutputDirs.requireWritable(out, "--out");
        tasks = new ArrayList<>(new LinkedHashSet<>(tasks));
        List<EvalRow> rows = new ArrayList<>();
        try (Denoiser dllm = dev.unmask.dllm.onnx.Denoisers.load(checkpoint, engine.engine)) {
            DllmLine.print(checkpoint, engine.engine);
            for (String name : tasks) {
                Task task = Tasks.byName(name);
                int len = task.defaultGenLength();
                List<dev.unmask.env.task.Example> heldOut = task.dataset(split, seed, n);
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
                    rows.add(Evaluator.evaluate(dllm, task, len, Integer.parseInt(g[1]), policy, heldOut, split, batch, seed, null).row());
                    System.err.println(ResultTables.shortLine(rows.get(rows.size() - 1)));
                }
            }
        }
        System.out.println(ResultTables.markdown(rows));
        if (out != null) {
            ResultTables.writeAll(out, "dllm-eval", rows);
            DllmCommand.writeCheckpointRunManifest("dllm-eval", spec, checkpoint, tasks, n, seed, split, batch, engine.engine, startNanos, started, out,
                    List.of("dllm-eval.csv", "dllm-eval.json", "dllm-eval.md"));
        }
        return 0;
    }

    /** Held-out accuracy per task with one token per step, most confident first, full diffusion. */
    static Map<String, Double> carefulAccuracy(Denoiser dllm, List<String> tasks, int n, long seed, Split split) {
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
