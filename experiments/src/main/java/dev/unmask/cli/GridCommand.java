package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.model.DllmCheckpoint;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.runs.*;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * What eval and sweep share: a grid of tasks x block lengths x policies x seeds evaluated on
 * held-out prompts, written as eval.csv / eval.json / eval.md with a manifest.
 */
abstract class GridCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "dLLM: a built-in checkpoint folder, or an ONNX export folder or its descriptor.json (default: the shipped models/dllm-a).")
    Path checkpoint;
    @Option(names = "--tasks", split = ",", defaultValue = "arith", description = "Tasks (default: ${DEFAULT-VALUE}).")
    List<String> tasks;
    @Option(names = "--gen-length", description = "Buffer length L (default: each task's own).")
    Integer genLength;
    @Option(names = "--block-lengths", split = ",", defaultValue = "8,full",
            description = "Block lengths; 'full' = full diffusion (B = L) (default: ${DEFAULT-VALUE}).")
    List<String> blockLengths;
    @Option(names = "--policies", split = ",(?=[a-z]+(:|$))", splitSynopsisLabel = ",", defaultValue = "baseline",
            description = "Policy specs, e.g. \"threshold:tau=0.5|0.9,topk:steps=64\" (quoted: | is a shell pipe); 'baseline' = every heuristic with its parameter swept.")
    List<String> policies;
    @Option(names = "--n", defaultValue = "200", description = "Held-out prompts per cell (default: ${DEFAULT-VALUE}).")
    int n;
    @Option(names = "--seeds", split = ",", defaultValue = "1") List<Long> seeds;
    @Option(names = "--batch", defaultValue = "64", description = "Episodes decoded together (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--out", required = true, description = "Run folder for results, manifest and cells.")
    Path out;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    abstract int workers();

    abstract String kind();

    @Override
    public Integer call() {
        Path ck = checkpoint == null ? Paths.defaultDllm() : checkpoint;
        if (!Files.isDirectory(ck)) throw new UnmaskException("checkpoint " + ck + " does not exist");
        if (n <= 0) throw new UnmaskException("--n must be positive");
        List<SweepCell> cells = new ArrayList<>();
        for (String t : tasks) {
            Task task = Tasks.byName(t);
            int len = genLength == null ? task.defaultGenLength() : genLength;
            for (String b : blockLengths) {
                int block;
                if (b.equals("full")) block = len;
                else {
                    try {
                        block = Integer.parseInt(b.trim());
                    } catch (NumberFormatException e) {
                        throw new UnmaskException("block length '" + b + "' is neither a number nor 'full'");
                    }
                }
                if (block <= 0 || len % block != 0) throw new UnmaskException("block length " + block + " does not divide the buffer length " + len + " of task " + t);
                for (String p : PolicyGrid.expand(policies, len)) {
                    Policies.parse(p); // fail fast on a bad spec or a missing checkpoint, before any work
                    if (!PolicyGrid.fits(p, len, block)) continue;
                    for (long s : seeds) cells.add(new SweepCell(t, len, block, p, s, n));
                }
            }
        }
        if (Files.exists(out.resolve(RunManifest.FILE)) && !Files.isDirectory(out.resolve(Sweep.CELLS))) {
            throw new UnmaskException(out + " holds another kind of run; choose another --out");
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("checkpoint", ck.toString());
        config.put("tasks", tasks);
        config.put("gen_length", genLength);
        config.put("block_lengths", blockLengths);
        config.put("policies", policies);
        config.put("n", n);
        config.put("seeds", seeds);
        config.put("batch", batch);
        config.put("workers", workers());
        config.put("cells", cells.size());
        RunManifest manifest = new RunManifest(kind(), spec.commandLine().getParseResult().originalArgs(), config);
        manifest.input("dllm_weights", dev.unmask.env.denoiser.onnx.Denoisers.weightsFile(ck));
        for (String p : policies) {
            Path pc = Policies.checkpointOf(p);
            if (pc != null) manifest.input("policy_weights", pc.resolve(dev.unmask.policy.PolicyCheckpoint.WEIGHTS));
        }
        Progress bar = new Progress(kind(), cells.size());
        List<EvalRow> rows = Sweep.run(out, cells, workers(), () -> dev.unmask.env.denoiser.onnx.Denoisers.load(ck), Policies::parse, batch, (done, total, row) -> {
            synchronized (bar) {
                bar.update(done, row.task() + " B=" + row.blockLength() + " " + row.policyParams());
            }
        });
        ResultTables.writeAll(out, "eval", rows);
        manifest.result("rows", rows.size());
        manifest.write(out, List.of(out.resolve("eval.csv"), out.resolve("eval.json"), out.resolve("eval.md")));
        System.out.println(ResultTables.markdown(rows));
        return 0;
    }

    @CommandLine.Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Evaluate policies on a task, mode and block length (held-out prompts).")
    static final class Eval extends GridCommand {
        int workers() {
            return 1;
        }

        String kind() {
            return "eval";
        }
    }

    @CommandLine.Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "The ablation grid: tasks x block lengths x policies x seeds; resumable, parallel cells.")
    static final class SweepCmd extends GridCommand {
        @Option(names = "--workers", defaultValue = "2", description = "Cells run in parallel, each with its own dLLM (default: ${DEFAULT-VALUE}).")
        int workers;

        int workers() {
            return workers;
        }

        String kind() {
            return "sweep";
        }
    }
}
