package dev.unmask.cli;

import dev.unmask.env.io.OutputDirs;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.task.Split;
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
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM (--checkpoint is the older name): a built-in checkpoint folder, or an ONNX export folder or its descriptor.json (default: the shipped model that learned the tasks: models/dllm-t1 for the testbed task lag, models/dllm-t2 for lag5, models/dllm-t4 for lag48, models/dllm-t6 for ducci, models/dllm-t8 for lag48 and ducci together, models/dllm-a for the others).")
    Path checkpoint;
    @Option(names = "--tasks", split = ",", defaultValue = "sudoku",
            description = "Tasks (default: ${DEFAULT-VALUE}, the task the default dLLM solves with careful decoding).")
    List<String> tasks;
    @Option(names = "--gen-length", description = "Buffer length L (default: each task's own); must hold the longest answer.")
    Integer genLength;
    @Option(names = "--block-lengths", split = ",", defaultValue = "8,full",
            description = "Block lengths; 'full' = full diffusion (B = L) (default: ${DEFAULT-VALUE}).")
    List<String> blockLengths;
    @Option(names = "--policies", split = ",(?=[a-z]+(:|$))", splitSynopsisLabel = ",", defaultValue = "baseline",
            description = "Policy specs, e.g. \"threshold:tau=0.5|0.9,topk:steps=64\" (quoted: | is a shell pipe); 'baseline' = every heuristic with its parameter swept. " + PolicyGrid.DEFAULTS_HELP)
    List<String> policies;
    @Option(names = "--n", defaultValue = "200", description = "Held-out prompts per cell (default: ${DEFAULT-VALUE}).")
    int n;
    @Option(names = "--seeds", split = ",", defaultValue = "1",
            description = "Seeds, each drawing its own set of held-out prompts (and sampling randomness); one cell per seed (default: ${DEFAULT-VALUE}).")
    List<Long> seeds;
    @Option(names = "--split", converter = Splits.class,
            description = "Held-out prompts: validation (tune on it) or test (report on it once) (default: test for eval, validation for sweep).")
    Split split;
    @CommandLine.Mixin
    EpisodeBatchOption episodes = new EpisodeBatchOption();
    @Option(names = "--out", required = true, description = "Run folder for results, manifest and cells.")
    Path out;
    @CommandLine.Mixin
    DllmEngineOption engine = new DllmEngineOption();
    @CommandLine.Mixin
    KvCacheOption cache = new KvCacheOption();
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    abstract int workers();

    abstract String kind();

    /** eval reports (test prompts); sweep tunes (validation prompts). */
    abstract Split defaultSplit();

    @Override
    public Integer call() {
        Path ck = checkpoint == null ? Paths.defaultDllm(tasks) : checkpoint;
        Denoisers.requireDllm(ck);
        if (n <= 0) throw new UnmaskException("--n must be at least 1, got " + n);
        int batch = episodes.checked();
        if (workers() <= 0) throw new UnmaskException("--workers must be at least 1, got " + workers());
        if (genLength != null && genLength <= 0) throw new UnmaskException("--gen-length must be at least 1, got " + genLength);
        Split heldOut = split == null ? defaultSplit() : split;
        if (heldOut == Split.TRAIN) throw new UnmaskException("--split train: evaluate on validation or test prompts, never on the prompts policies train on");
        KvCacheOption.refuseFullDiffusion(cache.cache, tasks, genLength, blockLengths);
        OutputDirs.requireWritable(out, "--out");
        String dllmSha = Checksums.sha256(Denoisers.weightsFile(ck));
        Denoisers.Engine runsOn = Denoisers.engineFor(ck, engine.engine);
        GridPlan plan = GridPlan.of(tasks, genLength, blockLengths, policies, seeds, n, heldOut, ck, dllmSha, batch, cache.engineLabel(runsOn.label()),
                mismatch -> System.err.println("unmask: warning: " + mismatch));
        List<SweepCell> cells = plan.cells();
        if (Files.exists(out.resolve(RunManifest.FILE))) {
            String kind = Json.read(out.resolve(RunManifest.FILE), Map.class).get("kind") instanceof String k ? k : "unknown";
            if (!kind.equals("eval") && !kind.equals("sweep")) throw new UnmaskException(out + " holds a " + kind + " run; choose another --out");
        }
        // one dLLM loaded up front: it checks that every answer fits the buffer before any work, then serves the first worker
        Denoiser first = Denoisers.load(ck, engine.engine, cache.cache);
        // once per prompt set, not per cell: every policy and block length of a task shares its prompts
        Set<String> checked = new HashSet<>();
        for (SweepCell c : cells) {
            if (!checked.add(c.task() + "|" + c.genLength() + "|" + c.split() + "|" + c.seed() + "|" + c.n())) continue;
            BufferFit.check(first.vocabulary(), Tasks.byName(c.task()), c.genLength(), c.split(), c.seed(), c.n(),
                    genLength != null ? "--gen-length" : "task " + c.task() + "'s buffer length");
        }
        System.err.println(DllmLine.of(ck, dllmSha, runsOn.label()));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("checkpoint", ck.toString());
        config.put("dllm_sha256", dllmSha);
        config.put("tasks", tasks);
        config.put("gen_length", genLength);
        config.put("block_lengths", blockLengths);
        config.put("policies", policies);
        config.put("n", n);
        config.put("seeds", seeds);
        config.put("split", heldOut.label());
        config.put("batch", batch);
        config.put("workers", workers());
        config.put("cache", cache.cache.label());
        config.put("cells", cells.size());
        RunManifest manifest = new RunManifest(kind(), spec.commandLine().getParseResult().originalArgs(), config);
        manifest.input("dllm_weights", Denoisers.weightsFile(ck));
        manifest.dllmEngine(runsOn.label());
        for (String p : policies) {
            Path pc = Policies.checkpointOf(p);
            if (pc != null) manifest.input("policy_weights", pc.resolve(PolicyCheckpoint.WEIGHTS));
        }
        Progress bar = new Progress(kind(), cells.size());
        java.util.concurrent.atomic.AtomicReference<Denoiser> unclaimed = new java.util.concurrent.atomic.AtomicReference<>(first);
        List<EvalRow> rows = Sweep.run(out, cells, workers(), () -> {
            Denoiser d = unclaimed.getAndSet(null);
            return d != null ? d : Denoisers.load(ck, engine.engine, cache.cache);
        }, Policies::parse, plan.trainedOn()::get, (done, total, row) -> {
            synchronized (bar) {
                bar.update(done, row.task() + " B=" + row.blockLength() + " " + row.policyParams());
            }
        });
        // other writers may share the folder: the tables hold the cells of every invocation, rebuilt under the folder's lock
        SweepFolder.Tables all = SweepFolder.locked(out, () -> {
            SweepFolder.Tables tables = SweepFolder.record(out, manifest, dllmSha, cells);
            ResultTables.writeAll(out, "eval", tables.rows());
            List<Path> outputs = new ArrayList<>(List.of(out.resolve("eval.csv"), out.resolve("eval.json"), out.resolve("eval.md")));
            outputs.addAll(Sweep.writeFailureTables(out, tables.cellIds(), tables.rows()));
            outputs.addAll(SweepFolder.cellFiles(out, tables.cellIds()));
            manifest.result("rows", tables.rows().size());
            manifest.write(out, outputs);
            return tables;
        });
        System.out.println(ResultTables.markdown(rows));
        if (all.rows().size() != rows.size()) {
            System.out.println(out + " holds " + all.rows().size() + " rows from " + all.invocations() + " invocations: see eval.md");
        }
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

        Split defaultSplit() {
            return Split.TEST;
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

        Split defaultSplit() {
            return Split.VALIDATION;
        }
    }
}
