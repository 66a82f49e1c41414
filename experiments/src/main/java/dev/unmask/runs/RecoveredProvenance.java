package dev.unmask.runs;

import dev.unmask.policy.PolicyCheckpoint;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.policy.PolicyProvenance;
import dev.unmask.rollout.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The provenance of a policy trained before {@code unmask train} stored it, filled in from what its
 * run folder recorded: manifest.json (the dLLM's weights checksum and path, the code's commit, and
 * the checksums of the policy files it wrote), config.json (task, buffer and block length, reward,
 * features, algorithm, seed) and metrics.jsonl (the iterations run). Nothing is guessed: a field the
 * folder does not record is left null and named in {@code unrecovered}; a field the provenance
 * cannot leave empty (task, lengths, seed, iterations) fails with one line instead.
 */
public final class RecoveredProvenance {
    private static final String DLLM_INPUT = "dllm_weights:";
    /** Reward keys a config may lack because they did not exist yet; the reward then is what the trainer did without them. */
    private static final List<String> LATER_REWARD_KEYS = List.of("rewardForm", "rewardAlpha", "knobRange");

    private RecoveredProvenance() {
    }

    /** The provenance of the policy in {@code run}/policy, from the run folder's records. */
    public static PolicyProvenance fromRunFolder(Path run) {
        Path manifestFile = run.resolve(RunManifest.FILE), configFile = run.resolve("config.json"), policy = run.resolve("policy");
        JsonNode manifest = readJson(manifestFile);
        if (!"train".equals(manifest.path("kind").asText())) throw new UnmaskException(manifestFile + " is not the manifest of a training run");
        // the policy must be the one this run wrote, or the run's records say nothing about it
        for (String f : List.of(PolicyCheckpoint.CONFIG, PolicyCheckpoint.WEIGHTS)) {
            String recorded = manifest.path("outputs_sha256").path("policy/" + f).asText(null);
            if (recorded == null) throw new UnmaskException(manifestFile + " records no checksum of policy/" + f + ": cannot tie the policy to this run");
            if (!recorded.equals(Checksums.sha256(policy.resolve(f)))) {
                throw new UnmaskException(policy.resolve(f) + " is not the file " + manifestFile + " records (sha256 " + recorded.substring(0, 12) + "...)");
            }
        }
        JsonNode raw = readJson(configFile);
        for (String key : List.of("task", "genLength", "blockLength", "algorithm", "seed", "features")) {
            if (!raw.has(key)) throw new UnmaskException(configFile + " does not record " + key + ": the policy's provenance cannot be recovered without it");
        }
        TrainConfig config = TrainConfig.readRecorded(configFile);
        List<String> unrecovered = new ArrayList<>(), from = new ArrayList<>();

        String dllmSha = null, dllmPath = null;
        Path dllmRecord = run.resolve("dllm.json");
        for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("inputs_sha256").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().startsWith(DLLM_INPUT)) continue;
            dllmSha = e.getValue().asText();
            Path weights = Path.of(e.getKey().substring(DLLM_INPUT.length()));
            // the training command records the checkpoint folder it was given; the manifest the weights file inside it
            dllmPath = weights.getFileName().toString().equals("weights.safetensors") && weights.getParent() != null ? weights.getParent().toString() : weights.toString();
        }
        if (Files.isRegularFile(dllmRecord)) {
            JsonNode d = readJson(dllmRecord);
            if (d.hasNonNull("checkpoint")) dllmPath = d.get("checkpoint").asText();
            if (dllmSha == null && d.hasNonNull("weights_sha256")) dllmSha = d.get("weights_sha256").asText();
        }
        if (dllmSha == null) unrecovered.add("dllm_sha256");
        if (dllmPath == null) unrecovered.add("dllm_path");
        List<String> fromManifest = new ArrayList<>();
        if (dllmSha != null) fromManifest.add("dllm_sha256");
        if (dllmPath != null) fromManifest.add("dllm_path");

        int iterations = lastIteration(run.resolve("metrics.jsonl"));
        String iterationsFrom = "metrics.jsonl (iterations)";
        JsonNode last = manifest.path("results").path("last_iteration").path("iteration");
        if (iterations < 0 && last.isInt()) {
            iterations = last.asInt();
            iterationsFrom = "manifest.json (iterations)";
        }
        else if (iterations >= 0 && last.isInt() && last.asInt() != iterations) {
            throw new UnmaskException(run + ": metrics.jsonl ends at iteration " + iterations + " but manifest.json records " + last.asInt());
        }
        if (iterations < 0) throw new UnmaskException(run + " records no training iteration (metrics.jsonl, manifest.json): the policy's provenance cannot be recovered");

        JsonNode code = manifest.path("code");
        String gitCommit = code.hasNonNull("git_commit") ? code.get("git_commit").asText() : null;
        Boolean gitDirty = code.hasNonNull("git_dirty") ? code.get("git_dirty").asBoolean() : null;
        if (gitCommit == null) unrecovered.add("git_commit");
        if (gitDirty == null) unrecovered.add("git_dirty");
        if (gitCommit != null) fromManifest.add("git_commit");
        if (gitDirty != null) fromManifest.add("git_dirty");
        if (!fromManifest.isEmpty()) from.add("manifest.json (" + String.join(", ", fromManifest) + (Files.isRegularFile(dllmRecord) ? "; dllm.json" : "") + ")");

        List<String> laterKeys = LATER_REWARD_KEYS.stream().filter(k -> !raw.has(k)).toList();
        from.add("config.json (task, gen_length, block_length, reward, " + (config.knobRange().isEmpty() ? "" : "knob_range, ") + "features, algorithm, seed"
                + (laterKeys.isEmpty() ? "" : "; it has no " + String.join(", ", laterKeys) + ", keys added later, so the reward is the one the trainer had before them") + ")");
        from.add(iterationsFrom);
        return new PolicyProvenance(dllmSha, dllmPath, config.task(), config.genLength(), config.blockLength(), TrainingProvenance.rewardAsTrained(config),
                config.knobRange().isEmpty() ? null : config.knobRange(), config.features(), config.algorithm(), config.seed(), iterations, gitCommit, gitDirty,
                "filled in after training from the run folder " + run.getFileName() + ": " + String.join(", ", from), unrecovered);
    }

    /** The last "iteration" of a metrics.jsonl, or -1 when there is none. */
    private static int lastIteration(Path metrics) {
        if (!Files.isRegularFile(metrics)) return -1;
        int last = -1;
        try {
            for (String line : Files.readAllLines(metrics)) {
                if (line.isBlank()) continue;
                JsonNode n = Json.MAPPER.readTree(line);
                if (n.has("iteration")) last = n.get("iteration").asInt();
            }
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + metrics + ": " + e.getMessage().split("\n")[0]);
        }
        return last;
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) throw new UnmaskException("missing file: " + file);
        try {
            JsonNode n = Json.MAPPER.readTree(file.toFile());
            if (n == null || !n.isObject()) throw new UnmaskException(file + " does not hold a JSON object");
            return n;
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + file + ": " + e.getMessage().split("\n")[0]);
        }
    }
}
