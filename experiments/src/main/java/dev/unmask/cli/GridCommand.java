package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.unmask.runs.Sweep.Outcome;
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
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM (--checkpoint is the older name): a built-in checkpoint folder, or an ONNX export folder or its descriptor.json (default: the shipped model that learned the tasks: models/dllm-t1 for the testbed task lag, models/dllm-t2 for lag5, models/dllm-t4 for lag48, models/dllm-t6 for ducci, models/dllm-t9 for lanes-columns, models/dllm-t8 for lag48 and ducci together, models/dllm-a for the others).")
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

    private void refuseOtherInputs(Map<String, Object> inputs, Worker me) {
        for (JsonNode other : CellClaims.liveWorkers(out, me, java.time.Clock.systemUTC())) {
            @SuppressWarnings("unchecked")
            String diff = SweepInputs.difference(Json.MAPPER.convertValue(other.path("inputs"), Map.class), inputs);
            if (diff != null) {
                throw new UnmaskException(out + " is being swept by " + other.path("host").asText() + "/" + other.path("pid").asText()
                        + " on other inputs (" + diff + "); wait for it, or use another --out");
            }
        }
    }

    /** Which share of the cells this command runs (sweep --shard; every cell otherwise). */
    Shard shard() {
        return Shard.ALL;
    }

    /** How long a claim may go without a heartbeat before other workers take its cell over. */
    java.time.Duration claimTimeout() {
        return CellClaims.DEFAULT_TIMEOUT;
    }

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
        Shard share = shard();
        java.time.Duration timeout = claimTimeout();
        Split heldOut = split == null ? defaultSplit() : split;
        if (heldOut == Split.TRAIN) throw new UnmaskException("--split train: evaluate on validation or test prompts, never on the prompts policies train on");
        KvCacheOption.refuseFullDiffusion(cache.cache, tasks, genLength, blockLengths);
        OutputDirs.requireWritable(out, "--out");
        String dllmSha = Checksums.sha256(Denoisers.weightsFile(ck));
        Denoisers.Engine runsOn = Denoisers.engineFor(ck, engine.engine);
        GridPlan plan = GridPlan.of(tasks, genLength, blockLengths, policies, seeds, n, heldOut, ck, dllmSha, batch, cache.engineLabel(runsOn.label()),
                mismatch -> System.err.println("unmask: warning: " + mismatch));
        List<SweepCell> planned = plan.cells();
        if (Files.exists(out.resolve(RunManifest.FILE))) {
            String kind = Json.read(out.resolve(RunManifest.FILE), Map.class).get("kind") instanceof String k ? k : "unknown";
            if (!kind.equals("eval") && !kind.equals("sweep")) throw new UnmaskException(out + " holds a " + kind + " run; choose another --out");
        }
        List<SweepCell> cells = share.select(planned);
        if (!share.isAll()) {
            if (cells.isEmpty()) System.err.println("unmask: warning: shard " + share + " has no cells (the sweep has " + plan.cells().size() + ")");
        }
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
        if (!share.isAll()) config.put("shard", share.toString());
        SweepFolder.Tables all;
        RunManifest manifest = new RunManifest(kind(), spec.commandLine().getParseResult().originalArgs(), config);
        manifest.input("dllm_weights", Denoisers.weightsFile(ck));
        manifest.dllmEngine(runsOn.label());
        for (String p : policies) {
            Path pc = Policies.checkpointOf(p);
            if (pc != null) manifest.input("policy_weights", pc.resolve(PolicyCheckpoint.WEIGHTS));
        }
        Map<String, Object> inputs = SweepInputs.of(config, runsOn.label());
        // a worker on other inputs is refused while others work here (its rows could not share their table):
        // looked at before any work, and again under the folder's lock as this worker registers
        refuseOtherInputs(inputs, Worker.current());
        // one dLLM loaded up front: it checks that every answer fits the buffer before any work, then serves the first worker
        Denoiser first = Denoisers.load(ck, engine.engine, cache.cache);
        // once per prompt set, not per cell: every policy and block length of a task shares its prompts
        Set<String> checked = new HashSet<>();
        for (SweepCell c : planned) {
            if (!checked.add(c.task() + "|" + c.genLength() + "|" + c.split() + "|" + c.seed() + "|" + c.n())) continue;
            BufferFit.check(first.vocabulary(), Tasks.byName(c.task()), c.genLength(), c.split(), c.seed(), c.n(),
                    genLength != null ? "--gen-length" : "task " + c.task() + "'s buffer length");
        }
        System.err.println(DllmLine.of(ck, dllmSha, runsOn.label()));
        Outcome outcome;
        try (CellClaims claims = new CellClaims(out, timeout, Worker.current())) {
            SweepFolder.locked(out, () -> {
                refuseOtherInputs(inputs, claims.worker());
                Map<String, Object> reg = new LinkedHashMap<>();
                reg.put("kind", kind());
                reg.put("command", manifest.invocation().get("command"));
                reg.put("started", manifest.invocation().get("started"));
                reg.put("shard", share.toString());
                reg.put("inputs", inputs);
                reg.put("cells", cells.stream().map(SweepCell::id).toList());
                claims.register(reg);
                return null;
            });
            Progress bar = new Progress(kind(), cells.size());
            java.util.concurrent.atomic.AtomicReference<Denoiser> unclaimed = new java.util.concurrent.atomic.AtomicReference<>(first);
            outcome = Sweep.run(out, cells, workers(), claims, () -> {
                Denoiser d = unclaimed.getAndSet(null);
                return d != null ? d : Denoisers.load(ck, engine.engine, cache.cache);
            }, Policies::parse, plan.trainedOn()::get, (done, total, row) -> {
                synchronized (bar) {
                    bar.update(done, row.task() + " B=" + row.blockLength() + " " + row.policyParams());
                }
            });
            manifest.invocationDetail("worker", claims.worker().record());
            if (!share.isAll()) manifest.invocationDetail("shard", share.toString());
            manifest.invocationDetail("computed", outcome.computed());
            if (!outcome.takenOver().isEmpty()) manifest.invocationDetail("taken_over", outcome.takenOver());
            // other writers may share the folder: the tables hold the cells of every invocation, rebuilt under the folder's lock
            all = SweepFolder.locked(out, () -> {
                SweepFolder.Tables tables = SweepFolder.record(out, manifest, dllmSha, cells);
                SweepFolder.write(out, manifest, tables);
                claims.leave(new HashSet<>(tables.cellIds()));
                return tables;
            });
        }
        List<EvalRow> rows = outcome.rows();
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

        @Option(names = "--shard", paramLabel = "I/N",
                description = "Run only shard I (from 0) of N of the cells (every N-th cell from the I-th), for machines that share no folder: each writes its own --out, and `unmask merge` puts the folders together. Without it, copies of the same command on machines that share --out split the cells between them.")
        String shard;
        @Option(names = "--claim-timeout", paramLabel = "SECONDS", defaultValue = "120",
                description = "A worker's claim on a cell that goes this long without its heartbeat (every SECONDS/4) is taken over by another worker of the folder (default: ${DEFAULT-VALUE}; see the user guide on shared filesystems).")
        double claimTimeoutSeconds;

        int workers() {
            return workers;
        }

        @Override
        Shard shard() {
            return shard == null ? Shard.ALL : Shard.parse(shard);
        }

        @Override
        java.time.Duration claimTimeout() {
            if (!(claimTimeoutSeconds > 0) || Double.isInfinite(claimTimeoutSeconds)) {
                throw new UnmaskException("--claim-timeout must be a positive number of seconds, got " + claimTimeoutSeconds);
            }
            return java.time.Duration.ofMillis(Math.round(claimTimeoutSeconds * 1000));
        }

        String kind() {
            return "sweep";
        }

        Split defaultSplit() {
            return Split.VALIDATION;
        }
    }
}
