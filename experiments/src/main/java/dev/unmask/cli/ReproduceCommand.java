package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.runs.Paths;
import dev.unmask.runs.RunFolderCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Re-runs a run from its manifest into a scratch folder, on the very inputs it recorded, and
 * compares what came out. The dLLM is pinned by its recorded weights checksum (found at the
 * recorded path or among the shipped models), every other recorded input (policy checkpoints,
 * config files) must still have its recorded checksum, and the run must have recorded which split
 * it was measured on; otherwise reproduce refuses with one line. Evaluation runs compare accuracy
 * and mean NFE of every row, probes every number, policy trainings the checksums of the trained
 * weights. Exit 0 only when everything is identical.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Re-run a run folder's command on the inputs its manifest pins (dLLM, policies, split) and compare the results; exit 1 if any number moved.")
final class ReproduceCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Run folder with manifest.json (eval, sweep, train, dllm eval, dllm probe).")
    Path runDir;
    @Option(names = "--scratch", description = "Where the re-run writes (default: a new temp folder).")
    Path scratch;
    @Option(names = "--dllm-engine", description = "Re-run on this engine instead of the recorded one (onnxruntime or samediff): checks that the engines give the same answers.")
    String engineOverride;

    private static final Set<String> KINDS = Set.of("eval", "sweep", "train", "dllm-eval", "dllm-probe");

    @Option(names = "--files-only", description = "Only check the folder's files against the checksums its manifest records (seconds, no re-run).")
    boolean filesOnly;

    @Override
    public Integer call() throws IOException {
        Path manifestFile = runDir.resolve("manifest.json");
        if (!Files.exists(runDir)) throw new UnmaskException(runDir + " does not exist");
        if (!Files.isRegularFile(manifestFile)) throw new UnmaskException(runDir + " has no manifest.json: not a run folder");
        JsonNode manifest = Json.read(manifestFile, JsonNode.class);
        String kind = manifest.path("kind").asText();
        // a re-run proves nothing about files that were edited after the run: check them first
        List<String> tampered = RunFolderCheck.outputsDiffer(runDir, manifest);
        for (String t : tampered) System.out.println(t);
        if (!tampered.isEmpty()) {
            System.out.printf("reproduce: %d file(s) of %s do not match the checksums its manifest records; nothing re-run%n", tampered.size(), runDir);
            return 1;
        }
        if (filesOnly) {
            System.out.printf("reproduce: the %d output files of %s match its manifest%n", manifest.path("outputs_sha256").size(), runDir);
            return 0;
        }
        if (!KINDS.contains(kind)) {
            throw new UnmaskException(runDir + " is a " + kind + " run; reproduce re-runs " + String.join(", ", new TreeSet<>(KINDS))
                    + (kind.equals("dllm-train") ? " (replay a dLLM training with the commands in its invocations.jsonl)" : ""));
        }
        List<List<String>> invocations = RunFolderCheck.invocationArgs(manifest);
        if (invocations.isEmpty()) throw new UnmaskException(manifestFile + " records no args to re-run");

        // pin every recorded input by checksum
        Path dllm = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("inputs_sha256").fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey().substring(0, e.getKey().indexOf(':')), path = e.getKey().substring(e.getKey().indexOf(':') + 1);
            String sha = e.getValue().asText();
            if (name.equals("dllm_weights")) {
                dllm = findDllm(Path.of(path), sha);
            } else {
                Path file = Path.of(path);
                if (!Files.isRegularFile(file)) throw new UnmaskException("input " + path + " of this run is missing; it cannot be reproduced here");
                String now = Checksums.sha256(file);
                if (!now.equals(sha)) throw new UnmaskException("input " + path + " changed since the run (sha256 " + sha.substring(0, 12) + " recorded, " + now.substring(0, 12) + " now)");
            }
        }
        if (dllm == null) throw new UnmaskException(manifestFile + " records no dLLM checksum: the dLLM it ran on cannot be pinned");
        if (!kind.equals("train") && !manifest.path("config").has("split")) {
            throw new UnmaskException(runDir + " predates the validation split: its prompts came from the old 1-in-5 test split, which no longer exists; re-run its command to regenerate it");
        }

        Path target = scratch != null ? scratch : Files.createTempDirectory("unmask-reproduce-");
        Path rerun = target.resolve("run");
        // runs recorded before the engine was recorded ran on SameDiff
        String engine = engineOverride != null ? Denoisers.Engine.parse(engineOverride).label()
                : manifest.path("dllm_engine").asText("samediff");
        for (List<String> recorded : invocations) {
            List<String> args = new ArrayList<>(recorded);
            setFlag(args, List.of("--out"), rerun.toString(), true);
            setFlag(args, List.of("--dllm", "--checkpoint"), dllm.toString(), false);
            setFlag(args, List.of("--dllm-engine"), engine, false);
            System.err.println("re-running: ./unmask " + String.join(" ", args));
            int rc = Main.commandLine().execute(args.toArray(new String[0]));
            if (rc != 0) throw new UnmaskException("the re-run failed (exit " + rc + ")");
        }

        JsonNode after = Json.read(rerun.resolve("manifest.json"), JsonNode.class);
        List<String> configChanges = configChanges(manifest.path("config"), after.path("config"));
        int different = configChanges.size();
        for (String c : configChanges) System.out.println("config differs: " + c);
        int[] counts = switch (kind) {
            case "eval", "sweep" -> RunFolderCheck.compareTables(runDir, rerun, "eval", true);
            case "dllm-eval" -> RunFolderCheck.compareTables(runDir, rerun, "dllm-eval", false);
            case "dllm-probe" -> compareJson(runDir.resolve("probe.json"), rerun.resolve("probe.json"));
            default -> compareTrainedWeights(manifest, after);
        };
        different += counts[1];
        System.out.printf("reproduce: %d identical, %d different (re-run in %s)%n", counts[0], different, target);
        return different == 0 ? 0 : 1;
    }

    /** The dLLM whose weights have the recorded checksum: at the recorded path, else among the shipped models. */
    static Path findDllm(Path recordedWeights, String sha) {
        List<Path> candidates = new ArrayList<>();
        Path recordedDir = recordedWeights.getParent() == null ? Path.of(".") : recordedWeights.getParent();
        candidates.add(recordedDir);
        Path models = Paths.home().resolve("models");
        if (Files.isDirectory(models)) {
            try (Stream<Path> s = Files.list(models)) {
                s.filter(Files::isDirectory).sorted().forEach(candidates::add);
            } catch (IOException ignored) {
                // then only the recorded path is tried
            }
        }
        // the recorded folder under a shipped name (runs made in another checkout record its absolute path)
        candidates.add(models.resolve(recordedDir.getFileName() == null ? "" : recordedDir.getFileName().toString()));
        for (Path c : candidates) {
            try {
                Path w = Denoisers.weightsFile(c);
                if (Files.isRegularFile(w) && Checksums.sha256(w).equals(sha)) return c;
            } catch (RuntimeException ignored) {
                // not a dLLM folder
            }
        }
        throw new UnmaskException("the dLLM this run used (weights sha256 " + sha.substring(0, 12) + ", recorded at " + recordedDir
                + ") is neither there nor among " + models + "; it cannot be reproduced here");
    }

    /** Sets a flag's value, under whichever of its names the args use (replacing it), else adds it under the first name. */
    static void setFlag(List<String> args, List<String> names, String value, boolean required) {
        for (int i = 0; i < args.size(); i++) {
            for (String flag : names) {
                if (args.get(i).equals(flag) && i + 1 < args.size()) {
                    args.set(i + 1, value);
                    return;
                }
                if (args.get(i).startsWith(flag + "=")) {
                    args.set(i, flag + "=" + value);
                    return;
                }
            }
        }
        if (required) throw new UnmaskException("the recorded command has no " + names.get(0) + " to redirect");
        // a subcommand's options follow its name(s): appending keeps them in place
        args.add(names.get(0));
        args.add(value);
    }

    /** Keys both configs have whose values differ (paths and worker counts do not change results). */
    static List<String> configChanges(JsonNode before, JsonNode after) {
        List<String> out = new ArrayList<>();
        Set<String> ignored = Set.of("checkpoint", "workers", "dllm");
        for (Iterator<String> it = before.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (ignored.contains(k) || !after.has(k)) continue;
            if (!before.get(k).equals(after.get(k))) out.add(k + " (" + before.get(k) + " -> " + after.get(k) + ")");
        }
        return out;
    }

    /** Probe tables: every row, every number. */
    private static int[] compareJson(Path recorded, Path reproduced) throws IOException {
        if (!Files.isRegularFile(recorded)) throw new UnmaskException(recorded + " is missing: nothing to compare with");
        JsonNode before = Json.read(recorded, JsonNode.class), after = Json.read(reproduced, JsonNode.class);
        int same = 0, different = 0;
        for (int i = 0; i < Math.max(before.size(), after.size()); i++) {
            JsonNode b = before.get(i), a = after.get(i);
            if (b != null && b.equals(a)) same++;
            else {
                different++;
                System.out.println("DIFFERENT row " + i + ": recorded " + b + ", reproduced " + a);
            }
        }
        return new int[]{same, different};
    }

    /** A policy training is deterministic: the trained weights must match byte for byte. */
    private static int[] compareTrainedWeights(JsonNode before, JsonNode after) {
        int same = 0, different = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = before.path("outputs_sha256").fields(); it.hasNext(); ) {
            var e = it.next();
            // the weights decide behaviour; metrics.jsonl carries wall times and the config file may gain provenance fields
            if (!e.getKey().startsWith("policy/") || !e.getKey().endsWith(".safetensors")) continue;
            String now = after.path("outputs_sha256").path(e.getKey()).asText(null);
            boolean ok = e.getValue().asText().equals(now);
            System.out.println(e.getKey() + ": " + (ok ? "identical" : "DIFFERENT (sha256 " + e.getValue().asText().substring(0, 12) + " recorded, "
                    + (now == null ? "missing" : now.substring(0, 12)) + " now)"));
            if (ok) same++;
            else different++;
        }
        if (same + different == 0) throw new UnmaskException("the run records no trained policy checksum to compare");
        return new int[]{same, different};
    }
}
