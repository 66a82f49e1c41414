package dev.unmask.cli;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import dev.unmask.runs.probe.FirstPassEos;
import dev.unmask.runs.probe.StepProbe;
import dev.unmask.runs.CheckpointRunManifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * {@code dllm probe}: the {@link StepProbe} per answer step (or per token with {@code --per-token}),
 * and with {@code --context none} the {@link FirstPassEos} first pass's end-of-sequence belief.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Per answer step: accuracy of predicting the step in one pass given the reference steps before it.")
final class DllmProbeCommand implements Callable<Integer> {
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM checkpoint folder or ONNX descriptor folder (--checkpoint is the older name).")
    Path checkpoint;
    @Option(names = "--tasks", split = ",", defaultValue = "arith-running", description = "Tasks (default: ${DEFAULT-VALUE}).")
    List<String> tasks;
    @picocli.CommandLine.Mixin
    HeldOutOptions heldOut = new HeldOutOptions();
    @Option(names = "--batch", defaultValue = "64", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--split", defaultValue = "test", converter = Splits.class,
            description = "Held-out prompts: validation or test (default: ${DEFAULT-VALUE}).")
    Split split;
    @Option(names = "--context", defaultValue = "left",
            description = "left: the reference before the step is given, everything after it masked; all: only the step is masked; "
                    + "none: the whole buffer is masked (one pass from the prompt alone; also reports the first pass's p(EOS) per position) (default: ${DEFAULT-VALUE}).")
    String context;
    @Option(names = "--per-token", description = "One row per token of each step (token accuracy and mean confidence) instead of per step.")
    boolean perToken;
    @Option(names = "--out", description = "Also write probe.md, probe.json and a manifest into this folder.") Path out;
    @picocli.CommandLine.Mixin
    DllmEngineOption engine = new DllmEngineOption();
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        java.time.Instant started = java.time.Instant.now();
        if (checkpoint == null) throw new UnmaskException("missing required option --dllm DIR: the dLLM to probe");
        tasks.forEach(Tasks::byName);
        int n = heldOut.n;
        long seed = heldOut.seed();
        if (n <= 0 || batch <= 0) throw new UnmaskException("--n and --batch must be positive");
        StepProbe.Context ctx = StepProbe.Context.parse(context);
        if (out != null) OutputDirs.requireWritable(out, "--out");
        List<StepProbe.StepRow> rows = new ArrayList<>();
        List<FirstPassEos> eos = new ArrayList<>();
        try (Denoiser dllm = Denoisers.load(checkpoint, engine.engine)) {
            DllmLine.print(checkpoint, engine.engine);
            for (String name : new LinkedHashSet<>(tasks)) {
                rows.addAll(StepProbe.probe(dllm, Tasks.byName(name), split, n, seed, batch, ctx, perToken));
                if (ctx == StepProbe.Context.NONE) eos.add(FirstPassEos.measure(dllm, Tasks.byName(name), split, n, seed, batch));
            }
        }
        String table = StepProbe.markdown(rows, perToken);
        for (FirstPassEos e : eos) table += "\n" + e.markdown();
        System.out.println(table);
        if (out != null) {
            AtomicFiles.writeString(out.resolve("probe.md"), table);
            Json.writeAtomically(out.resolve("probe.json"), rows);
            List<String> files = new ArrayList<>(List.of("probe.md", "probe.json"));
            if (!eos.isEmpty()) {
                Json.writeAtomically(out.resolve("first-pass-eos.json"), eos);
                files.add("first-pass-eos.json");
            }
            CheckpointRunManifest.write("dllm-probe", spec.commandLine().getParseResult().originalArgs(), checkpoint, tasks, n, seed, split, batch, engine.engine, startNanos, started, out, files);
        }
        return 0;
    }
}
