package dev.unmask.cli;

import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.env.task.Tasks;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.*;
import dev.unmask.env.task.Split;
import dev.unmask.runs.DllmEval;
import dev.unmask.runs.DllmTrainRun;
import dev.unmask.runs.MetricsLog;
import dev.unmask.runs.RunManifest;
import dev.unmask.runs.TrainingTotals;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

@Command(name = "dllm", mixinStandardHelpOptions = true, description = "Train or evaluate a built-in dLLM.",
        subcommands = {DllmCommand.Train.class, DllmEvalCommand.class, DllmProbeCommand.class, DllmTasksCommand.class})
public final class DllmCommand {
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train the built-in masked-diffusion transformer on the verifiable tasks.")
    static final class Train implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--out", required = true, description = "Checkpoint folder to create.")
        Path out;
        @Option(names = "--tasks", split = ",", defaultValue = "arith,sudoku,sort", description = "Tasks to train on (default: ${DEFAULT-VALUE}).")
        List<String> tasks;
        @Option(names = "--steps", defaultValue = "3000") int steps;
        @Option(names = "--batch", defaultValue = "48") int batch;
        @Option(names = "--lr", defaultValue = "1e-3") double lr;
        @Option(names = "--warmup", defaultValue = "200") int warmup;
        @Option(names = "--clip", defaultValue = "1.0") double clip;
        @picocli.CommandLine.Mixin
        SeedOption seed = new SeedOption();
        @Option(names = "--d-model", defaultValue = "128") int dModel;
        @Option(names = "--layers", defaultValue = "4") int layers;
        @Option(names = "--heads", defaultValue = "4") int heads;
        @Option(names = "--ff", defaultValue = "512") int ff;
        @Option(names = "--max-length", defaultValue = "96") int maxLength;
        @Option(names = "--rotary", description = "Add rotary position encoding (RoPE) in attention, so what is learnt at one position holds at every offset.")
        boolean rotary;
        @Option(names = "--fourier-digits", description = "Start the digit embeddings from Fourier features of period 10 (helps a small model learn sums modulo 10).")
        boolean fourierDigits;
        @Option(names = "--rotary-only", description = "Rotary positions without the learned position table (implies --rotary): attention sees only offsets.")
        boolean rotaryOnly;
        @Option(names = "--long-buffer-prob", defaultValue = "0.2") double longBufferProb;
        @Option(names = "--checkpoint-every", defaultValue = "250") int checkpointEvery;
        @Option(names = "--shortest-of", defaultValue = "1", description = "Train on the shortest answer of this many draws (default: ${DEFAULT-VALUE}): "
                + "training answers shorter than the task's, so the model expects answers to end too early, as an instruction-tuned dLLM does on long benchmark answers.")
        int shortestOf;
        @Option(names = "--suffix-mask-prob", defaultValue = "0", description = "Share of training examples whose mask also hides every answer position from a random cut on "
                + "(default: ${DEFAULT-VALUE}): teaches the decisions semi-AR decoding faces at the end of an answer, with everything to the right still masked.")
        double suffixMaskProb;
        @Option(names = "--eval-n", defaultValue = "200", description = "Held-out prompts per task for the final accuracy (0 = skip).")
        int evalN;
        @Option(names = "--resume", description = "Continue from the folder's trainer-state.")
        boolean resume;
        @Option(names = "--stop-after", description = "Save the state and stop after this step (train in chunks; resume later with --resume).")
        Integer stopAfter;
        @Option(names = "--init-from", description = "Fine-tune: start from this checkpoint's weights and architecture (fresh optimizer and schedule).")
        Path initFrom;
        @Option(names = "--add-layers", defaultValue = "0", description = "With --init-from: stack this many new encoder layers on top of the checkpoint's, "
                + "initialised to pass their input through (zero output projections), so the grown model starts as the checkpoint and gains capacity "
                + "for another task (default: ${DEFAULT-VALUE}).")
        int addLayers;
        @Option(names = "--trainer", description = "fast (hand-written forward and backward, several times faster) or samediff (the SameDiff graph; "
                + "runs trained before the fast trainer existed used it). Default: fast for a new run; a resumed run keeps the trainer it started with.")
        String trainer;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        /**
         * Resuming a run grown with --add-layers needs the same --add-layers (its state has the grown
         * architecture): a mismatch names the flag and the value the run was grown with.
         */
        private void refuseOtherGrowth(int baseLayers) {
            int saved = DllmTrainRun.savedLayers(out);
            if (saved == 0 || saved == baseLayers + addLayers) return;
            int grownBy = saved - baseLayers;
            String given = addLayers == 0 ? "without --add-layers" : "with --add-layers " + addLayers;
            if (grownBy > 0) {
                throw new UnmaskException("--resume: " + out + " was grown with --add-layers " + grownBy + " (" + saved + " layers on the " + baseLayers
                        + " of " + initFrom + "), but this command resumes it " + given + "; pass --add-layers " + grownBy + " again");
            }
            throw new UnmaskException("--resume: " + out + " has " + saved + " layers, fewer than the " + baseLayers + " of --init-from " + initFrom
                    + ": it was not started from that checkpoint; resume it with the --init-from it was started with");
        }

        @Override
        public Integer call() {
            // every flag is checked before anything is printed or written
            if (addLayers < 0) throw new UnmaskException("--add-layers must be >= 0, got " + addLayers);
            if (addLayers != 0 && initFrom == null) throw new UnmaskException("--add-layers needs --init-from (the checkpoint whose layers it adds to)");
            boolean hasState = CheckpointFiles.exists(out.resolve(DllmTrainer.STATE_DIR));
            if (resume && !hasState) {
                throw new UnmaskException("--resume: " + out + " holds no trainer state to continue (no " + DllmTrainer.STATE_DIR
                        + "/); to start a new run, leave out --resume" + (Files.exists(out) ? " and choose an empty or new --out" : ""));
            }
            String widened = null;
            BuiltinDllm init = null;
            if (initFrom != null) {
                for (String archOption : List.of("--d-model", "--layers", "--heads", "--ff", "--max-length", "--rotary", "--fourier-digits", "--rotary-only")) {
                    if (spec.commandLine().getParseResult().hasMatchedOption(archOption)) {
                        throw new UnmaskException(archOption + " cannot be combined with --init-from: the architecture comes from " + initFrom);
                    }
                }
                init = DllmCheckpoint.load(initFrom);
                // a model trained before a task's prompt token existed gets the token appended, so it can learn the task
                Vocabulary known = init.vocabulary(), builtin = Vocabulary.builtin();
                if (builtin.size() > known.size() && known.isExtendedBy(builtin)) {
                    widened = "vocabulary of " + initFrom + " widened with " + builtin.tokens().subList(known.size(), builtin.size());
                    init = init.withVocabulary(builtin);
                }
                // also on --resume: the saved state's weights need the grown architecture to load into
                if (resume && hasState) refuseOtherGrowth(init.config().layers());
                if (addLayers > 0) init = init.withAddedLayers(addLayers);
            }
            DllmConfig arch = init != null ? init.config() : new DllmConfig(dModel, layers, heads, ff, maxLength, seed.seed, rotary || rotaryOnly, fourierDigits, rotaryOnly);
            if (shortestOf < 1) throw new UnmaskException("--shortest-of must be >= 1 (draws per training example), got " + shortestOf);
            if (!(suffixMaskProb >= 0 && suffixMaskProb <= 1)) throw new UnmaskException("--suffix-mask-prob must lie in [0, 1], got " + suffixMaskProb);
            DllmTrainConfig cfg = new DllmTrainConfig(tasks, steps, batch, lr, warmup, clip, seed.seed, checkpointEvery, longBufferProb, shortestOf, suffixMaskProb);
            cfg.tasks().forEach(Tasks::byName); // fail fast on an unknown task
            if (Files.exists(out) && !resume && out.toFile().list().length > 0) {
                throw new UnmaskException(out + " already exists; pass --resume to continue it or choose another --out");
            }
            DllmTrainer.Kind requested = trainer == null ? null : DllmTrainer.Kind.parse(trainer);
            DllmTrainer.Kind saved = resume && hasState ? DllmTrainer.savedKind(out) : null;
            if (requested != null && saved != null && requested != saved) {
                throw new UnmaskException(out + " was trained with --trainer " + saved.label() + "; resume it with the same trainer"
                        + " (the two differ in the last bits, so switching would not continue the same run)");
            }
            DllmTrainer.Kind kind = saved != null ? saved : requested != null ? requested : DllmTrainer.Kind.FAST;
            BuiltinDllm model = init != null ? init : new BuiltinDllm(arch, Vocabulary.builtin());
            DllmTrainRun.checkTasksFit(model, cfg.tasks());
            OutputDirs.requireWritable(out, "--out");
            if (initFrom != null) System.err.println(DllmLine.of(initFrom, DllmCheckpoint.weightsSha256(initFrom), "starting weights, trained with the " + kind.label() + " trainer"));
            if (widened != null) System.err.println(widened);
            DllmTrainer trainer = new DllmTrainer(model, cfg, kind);
            boolean resumed = resume && hasState && trainer.resume(out);
            if (stopAfter != null && stopAfter <= trainer.step()) throw new UnmaskException("--stop-after " + stopAfter + " is not after the current step " + trainer.step());
            if (resumed) System.err.println("resumed at step " + trainer.step());
            System.err.printf("dLLM %s: %,d parameters; training %d steps on %s with the %s trainer%n", model.describe(), model.parameterCount(), steps, tasks, kind.label());
            Path metrics = out.resolve("metrics.jsonl");
            MetricsLog.trim(metrics, "step", trainer.step());
            // Every process that touches the run is recorded, so a run trained in chunks (or resumed with other
            // arguments) can be replayed exactly: same arguments, same start steps, same stop steps.
            Map<String, Object> invocation = new LinkedHashMap<>();
            invocation.put("start_step", trainer.step());
            invocation.put("args", spec.commandLine().getParseResult().originalArgs());
            invocation.put("code", RunManifest.codeVersion());
            invocation.put("trainer", kind.label()); // a line without it (older runs) was the samediff trainer
            if (initFrom != null) invocation.put("init_from_weights_sha256", DllmCheckpoint.weightsSha256(initFrom));
            AtomicFiles.appendLine(out.resolve(DllmTrainRun.INVOCATIONS), Json.writeLine(invocation));
            int last = stopAfter == null ? steps : Math.min(steps, stopAfter);
            Progress bar = new Progress("dllm train", steps, trainer.step());
            double ema = Double.NaN; // progress display only
            double trainMillis = 0;
            while (trainer.step() < last) {
                DllmTrainer.StepReport r = trainer.trainStep();
                trainMillis += r.stepMillis();
                ema = Double.isNaN(ema) ? r.loss() : 0.98 * ema + 0.02 * r.loss();
                AtomicFiles.appendLine(metrics, Json.writeLine(r));
                if (r.step() % 10 == 0 || r.step() == steps) bar.update(r.step(), String.format("loss %.4f", ema));
                if (r.step() % checkpointEvery == 0 || r.step() == last) {
                    trainer.saveState(out);
                    // a loadable copy of the weights at every saved step, so a run in progress can be probed or
                    // evaluated (dllm probe --checkpoint OUT/snapshot); the run folder itself becomes a checkpoint
                    // only when training finishes
                    DllmCheckpoint.save(out.resolve(DllmTrainRun.SNAPSHOT), trainer.model());
                }
            }
            if (last < steps) {
                System.err.println("stopped after step " + last + " (state saved); continue with the same command and --resume");
                return 0;
            }
            model = trainer.model();
            DllmCheckpoint.saveInto(out, model);
            DllmTrainRun.removeSnapshot(out); // superseded by the finished checkpoint
            RunManifest manifest = new RunManifest("dllm-train", spec.commandLine().getParseResult().originalArgs(), Map.of("architecture", arch, "training", cfg, "trainer", kind.label()));
            if (initFrom != null) {
                manifest.input("init_from", initFrom.resolve(DllmCheckpoint.WEIGHTS));
                manifest.result("init_from", initFrom.toString());
                if (addLayers > 0) manifest.result("init_from_added_layers", addLayers);
            }
            manifest.result("parameters", model.parameterCount());
            manifest.result("invocations", DllmTrainRun.readInvocations(out));
            // Read back from metrics.jsonl, not this process: a run trained in chunks ends in a process that may run few steps.
            TrainingTotals totals = TrainingTotals.of(metrics, 50);
            manifest.result("final_loss_mean_last_50_steps", totals.finalLoss());
            manifest.result("train_seconds", totals.trainSeconds());
            manifest.result("train_seconds_this_process", trainMillis / 1000.0);
            // a base without a training log (an exported or hand-made checkpoint) has no seconds to report, not zero
            if (initFrom != null && Files.isRegularFile(initFrom.resolve("metrics.jsonl"))) {
                manifest.result("init_from_train_seconds", TrainingTotals.of(initFrom.resolve("metrics.jsonl"), 50).trainSeconds());
            }
            if (evalN > 0) {
                manifest.result("heldout_split", Split.VALIDATION.label());
                manifest.result("heldout_accuracy_careful", DllmEval.carefulAccuracy(model, tasks, evalN, seed.seed, Split.VALIDATION));
            }
            manifest.write(out, List.of(out.resolve(DllmCheckpoint.CONFIG), out.resolve(DllmCheckpoint.VOCAB), out.resolve(DllmCheckpoint.WEIGHTS)));
            System.out.println(Json.write(Json.read(out.resolve(RunManifest.FILE), Map.class).get("results")));
            return 0;
        }
    }
}
