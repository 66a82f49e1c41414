package dev.unmask.cli;

import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.runs.BufferFit;
import dev.unmask.runs.TrainingProvenance;
import dev.unmask.env.UnmaskException;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import dev.unmask.rollout.PolicyTrainer;
import dev.unmask.rollout.TrainConfig;
import dev.unmask.runs.ConfigFiles;
import dev.unmask.runs.MetricsLog;
import dev.unmask.runs.Paths;
import dev.unmask.runs.ResultTables;
import dev.unmask.runs.RunManifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an unmasking policy (GRPO or PPO) against a frozen dLLM.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "JSON or YAML file with any TrainConfig keys.") Path configFile;
    @Option(names = "--set", description = "Override a config key, e.g. --set algorithm=ppo --set iterations=40 (repeatable).")
    List<String> overrides = new ArrayList<>();
    @Option(names = "--dllm", description = "dLLM checkpoint (default: the shipped model that learned the tasks: models/dllm-t1 for the testbed task lag, models/dllm-t2 for lag5, models/dllm-t4 for lag48, models/dllm-t6 for ducci, models/dllm-t9 for lanes-columns, models/dllm-a for the others).") Path dllmPath;
    @Option(names = "--out", required = true, description = "Run folder.") Path out;
    @Option(names = "--eval-n", defaultValue = "100", description = "Validation prompts for the final evaluation (0 = skip).") int evalN;
    @Option(names = "--resume", description = {"Continue the run in --out from its last checkpoint. The config, the dLLM and its engine must be "
            + "the run's own (a key that would change the results, other dLLM weights or another engine is refused naming what differs); "
            + "--set iterations=N with a larger N extends a finished or stopped run (the learning rate's linear decay is then spread over "
            + "the new total)."}) boolean resume;
    @CommandLine.Mixin
    DllmEngineOption engine = new DllmEngineOption();
    @CommandLine.Mixin
    KvCacheOption cache = new KvCacheOption();
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Resolved config, or a one-line error; nothing is written before this succeeds. */
    TrainConfig resolve() {
        TrainConfig c = ConfigFiles.resolve(TrainConfig.defaults(), configFile, overrides, TrainConfig.class);
        Tasks.byName(c.task());
        return c;
    }

    /** Which dLLM the run trains against (weights and the engine that runs them), so --resume can refuse another. */
    static final String DLLM_RECORD = "dllm.json";

    /** --resume continues the recorded run: refuse a config or dLLM that would give other results, before anything is written. */
    private void refuseAnotherRun(TrainConfig config, Path ck, String dllmSha256, String runsOn) {
        Path recordedConfig = out.resolve("config.json");
        if (Files.isRegularFile(recordedConfig)) {
            List<String> differ = config.differencesThatChangeResults(TrainConfig.readRecorded(recordedConfig));
            if (!differ.isEmpty()) {
                throw new UnmaskException("--resume: config differs from the run's config.json in " + String.join(", ", differ)
                        + "; resume with the run's config or choose another --out");
            }
        }
        Map<String, String> recorded = recordedDllm();
        if (recorded == null) return;
        String sha = recorded.get("weights_sha256");
        if (sha != null && !sha.equals(dllmSha256)) {
            throw new UnmaskException("--resume: the run was trained against dLLM weights " + sha.substring(0, 16) + "..., but " + ck
                    + " has " + dllmSha256.substring(0, 16) + "...; resume with the run's dLLM or choose another --out");
        }
        if (!recorded.get("engine").equals(runsOn)) {
            String[] was = recorded.get("engine").split("\\+cache=");
            String flags = "--dllm-engine " + was[0] + (was.length > 1 ? " --cache " + was[1] : "");
            throw new UnmaskException("--resume: the run's dLLM ran on " + recorded.get("engine") + ", this one on " + runsOn
                    + "; resume with " + flags + " or choose another --out");
        }
    }

    /**
     * weights_sha256 and engine from dllm.json, or for runs made before it existed from the
     * manifest (such runs ran on SameDiff unless it says otherwise); null if the run has neither.
     */
    private Map<String, String> recordedDllm() {
        Map<String, String> r = new HashMap<>();
        if (Files.isRegularFile(out.resolve(DLLM_RECORD))) {
            Json.read(out.resolve(DLLM_RECORD), Map.class).forEach((k, v) -> r.put(String.valueOf(k), String.valueOf(v)));
        } else if (Files.isRegularFile(out.resolve(RunManifest.FILE))) {
            Map<?, ?> manifest = Json.read(out.resolve(RunManifest.FILE), Map.class);
            if (manifest.get("inputs_sha256") instanceof Map<?, ?> inputs) {
                inputs.forEach((k, v) -> {
                    if (String.valueOf(k).startsWith("dllm_weights:")) r.put("weights_sha256", String.valueOf(v));
                });
            }
            if (manifest.get("dllm_engine") != null) r.put("engine", String.valueOf(manifest.get("dllm_engine")));
        } else {
            return null;
        }
        r.putIfAbsent("engine", Denoisers.Engine.SAMEDIFF.label());
        return r;
    }

    @Override
    public Integer call() {
        TrainConfig config = resolve();
        // made before training so that its wall_seconds covers this process's training
        RunManifest manifest = new RunManifest("train", spec.commandLine().getParseResult().originalArgs(), config);
        Path ck = dllmPath == null ? Paths.defaultDllm(List.of(config.task())) : dllmPath;
        if (!resume && Files.isDirectory(out) && Objects.requireNonNull(out.toFile().list()).length > 0) {
            throw new UnmaskException(out + " already exists; pass --resume to continue it or choose another --out");
        }
        if (evalN < 0) throw new UnmaskException("--eval-n must be 0 (skip) or positive, got " + evalN);
        KvCacheOption.refuseFullDiffusion(cache.cache, config.genLength(), config.blockLength(), "the config's blockLength " + config.blockLength());
        OutputDirs.requireWritable(out, "--out");
        Denoiser dllm = Denoisers.load(ck, engine.engine, cache.cache);
        String dllmSha256 = Checksums.sha256(Denoisers.weightsFile(ck));
        // what actually runs: a built-in model on SameDiff, anything else (an export, or a built-in one by default) in ONNX Runtime
        String runsOn = Denoisers.engineFor(ck, engine.engine).label();
        // rollouts through a key/value cache see other confidences: the cache is part of the environment a run trains against
        String environment = cache.engineLabel(runsOn);
        if (resume) refuseAnotherRun(config, ck, dllmSha256, environment);
        BufferFit.check(dllm.vocabulary(), Tasks.byName(config.task()), config.genLength(), Split.TRAIN, config.seed(), 200, "config key genLength");
        System.err.println(DllmLine.of(ck, dllmSha256, environment));
        long dllmParams = dllm instanceof BuiltinDllm b ? b.parameterCount() : -1;
        PolicyTrainer trainer = new PolicyTrainer(config, dllm);
        if (resume && trainer.resume(out)) System.err.println("resumed after iteration " + trainer.iteration());
        Json.writeAtomically(out.resolve("config.json"), config);
        Json.writeAtomically(out.resolve(DLLM_RECORD), Map.of("checkpoint", ck.toString(), "weights_sha256", dllmSha256, "engine", environment));
        System.err.printf("policy: %,d parameters (dLLM %s: %s); %s on %s, L=%d, B=%d%n", trainer.net().parameterCount(), dllm.describe(),
                dllmParams > 0 ? String.format(Locale.ROOT, "%,d parameters, ratio %.4f%%", dllmParams, 100.0 * trainer.net().parameterCount() / dllmParams) : "ONNX",
                config.algorithm(), config.task(), config.genLength(), config.blockLength());
        Path metrics = out.resolve("metrics.jsonl");
        // iterations a killed process logged after its last saved state are run again: keep each iteration once
        MetricsLog.trim(metrics, "iteration", trainer.iteration());
        Progress bar = new Progress("train " + config.algorithm(), config.iterations(), trainer.iteration());
        double rollout = 0, forward = 0, update = 0;
        PolicyTrainer.IterationReport last = null;
        while (trainer.iteration() < config.iterations()) {
            last = trainer.runIteration();
            rollout += last.rolloutSeconds();
            forward += last.dllmSeconds();
            update += last.updateSeconds();
            AtomicFiles.appendLine(metrics, Json.writeLine(last));
            bar.update(last.iteration(), String.format(Locale.ROOT, "reward %.3f acc %.2f nfe %.1f", last.meanReward(), last.accuracy(), last.meanNfe()));
            if (last.iteration() % config.checkpointEvery() == 0 || last.iteration() == config.iterations()) trainer.saveState(out);
        }
        Path policyDir = out.resolve("policy");
        PolicyCheckpoint.save(policyDir, trainer.net(), TrainingProvenance.of(config, ck, trainer.iteration()));
        manifest.input("dllm_weights", Denoisers.weightsFile(ck));
        manifest.dllmEngine(runsOn);
        manifest.result("policy_parameters", trainer.net().parameterCount());
        if (dllmParams > 0) manifest.result("dllm_parameters", dllmParams);
        Map<String, Object> time = new LinkedHashMap<>();
        time.put("rollout_seconds", rollout);
        time.put("of_which_dllm_forward_seconds", forward);
        time.put("policy_update_seconds", update);
        manifest.result("time_this_process", time);
        if (last != null) manifest.result("last_iteration", last);
        List<Path> outputs = new ArrayList<>(List.of(policyDir.resolve(PolicyCheckpoint.WEIGHTS), policyDir.resolve(PolicyCheckpoint.CONFIG), metrics));
        if (evalN > 0) {
            var task = Tasks.byName(config.task());
            LearnedPolicy trained = new LearnedPolicy(trainer.net(), 1.0, false, policyDir.toString());
            // a knob-conditioned policy is checked at the middle of the knob range it was trained on
            if (!config.knobRange().isEmpty()) trained = trained.withKnob(middleKnob(config));
            EvalRow row = Evaluator.evaluate(dllm, task, config.genLength(), config.blockLength(), trained, Split.VALIDATION, config.seed(), evalN, 64, null).row();
            ResultTables.writeAll(out, "eval", List.of(row));
            manifest.result("heldout", row);
            outputs.add(out.resolve("eval.csv"));
            System.out.println(ResultTables.markdown(List.of(row)));
        }
        manifest.write(out, outputs);
        System.out.println(usageHint(policyDir, config));
        return 0;
    }

    /** The middle of a knob policy's knob range: where train checks it, and the knob its usage hint names. */
    static double middleKnob(TrainConfig config) {
        return (config.knobRange().get(0) + config.knobRange().get(1)) / 2;
    }

    /** The closing line: where the policy is and the --policies spec that evaluates it (a knob policy needs a knob). */
    static String usageHint(Path policyDir, TrainConfig config) {
        String spec = "learned:path=" + policyDir;
        if (config.knobRange().isEmpty()) return "policy: " + policyDir + "  (use as --policies " + spec + ")";
        return "policy: " + policyDir + "  (use as --policies " + spec + ",knob=" + middleKnob(config) + "; trained for knob in ["
                + config.knobRange().get(0) + ", " + config.knobRange().get(1) + "])";
    }
}
