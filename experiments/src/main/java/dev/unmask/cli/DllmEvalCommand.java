package dev.unmask.cli;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import dev.unmask.runs.DllmEval;
import dev.unmask.runs.ResultTables;
import dev.unmask.runs.CheckpointRunManifest;
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
    @picocli.CommandLine.Mixin
    HeldOutOptions heldOut = new HeldOutOptions();
    @picocli.CommandLine.Mixin
    EpisodeBatchOption episodes = new EpisodeBatchOption();
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
        if (checkpoint == null) throw new UnmaskException("missing required option --dllm DIR: the dLLM to evaluate");
        tasks.forEach(Tasks::byName);
        int n = heldOut.n;
        long seed = heldOut.seed();
        if (n <= 0) throw new UnmaskException("--n must be at least 1, got " + n);
        int batch = episodes.checked();
        if (out != null) OutputDirs.requireWritable(out, "--out");
        tasks = new ArrayList<>(new LinkedHashSet<>(tasks));
        List<EvalRow> rows;
        try (Denoiser dllm = Denoisers.load(checkpoint, engine.engine)) {
            DllmLine.print(checkpoint, engine.engine);
            rows = DllmEval.rows(dllm, tasks, split, seed, n, batch, row -> System.err.println(ResultTables.shortLine(row)));
        }
        System.out.println(ResultTables.markdown(rows));
        if (out != null) {
            ResultTables.writeAll(out, "dllm-eval", rows);
            CheckpointRunManifest.write("dllm-eval", spec.commandLine().getParseResult().originalArgs(), checkpoint, tasks, n, seed, split, batch, engine.engine, startNanos, started, out,
                    List.of("dllm-eval.csv", "dllm-eval.json", "dllm-eval.md"));
        }
        return 0;
    }
}
