package dev.unmask.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a trained policy came from: the dLLM it was trained against (SHA-256 of its weights file
 * and the path given), the task and decoding setting, the reward it maximised, its inputs, the
 * algorithm, seed and iterations run, and the code's git commit. A policy's numbers mean little
 * without these, and a checkpoint folder or an exported file is often all that travels.
 *
 * <p>Stored as a {@code provenance} object in the checkpoint's policy-config.json, and as flat
 * string entries (one per field, {@link #toMetadata}) in an ONNX file's metadata_props and a
 * safetensors header's {@code __metadata__}. Checkpoints written before provenance was recorded
 * have none.
 *
 * @param dllmSha256  SHA-256 of the dLLM's weights file (weights.safetensors, or the ONNX model)
 * @param dllmPath    the dLLM path as given to the training command
 * @param reward      the reward formula with its constants, e.g. {@code correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))}
 * @param iterations  training iterations done when the checkpoint was written
 * @param gitCommit   the code's commit, or null outside a git checkout
 * @param gitDirty    whether tracked code differed from that commit, or null when unknown
 */
public record PolicyProvenance(
        @JsonProperty("dllm_sha256") String dllmSha256,
        @JsonProperty("dllm_path") String dllmPath,
        @JsonProperty("task") String task,
        @JsonProperty("gen_length") int genLength,
        @JsonProperty("block_length") int blockLength,
        @JsonProperty("reward") String reward,
        @JsonProperty("features") List<String> features,
        @JsonProperty("algorithm") String algorithm,
        @JsonProperty("seed") long seed,
        @JsonProperty("iterations") int iterations,
        @JsonProperty("git_commit") String gitCommit,
        @JsonProperty("git_dirty") Boolean gitDirty) {

    public PolicyProvenance {
        features = List.copyOf(features);
    }

    /** One string per field (features comma-separated), keys prefixed, in declaration order; null fields left out. */
    public Map<String, String> toMetadata(String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        Json.MAPPER.convertValue(this, Map.class).forEach((k, v) -> {
            if (v == null) return;
            out.put(prefix + k, v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(v));
        });
        return out;
    }

    /**
     * The provenance stored by {@link #toMetadata} among other metadata entries, or null when there
     * is none (a file from before provenance was recorded).
     */
    public static PolicyProvenance fromMetadata(Map<String, String> metadata, String prefix, String source) {
        Map<String, Object> fields = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (!k.startsWith(prefix)) return;
            String name = k.substring(prefix.length());
            fields.put(name, name.equals("features") ? Arrays.asList(v.split(",")) : v);
        });
        if (fields.isEmpty()) return null;
        try {
            return Json.MAPPER.convertValue(fields, PolicyProvenance.class);
        } catch (IllegalArgumentException e) {
            throw new UnmaskException(source + ": unreadable provenance metadata: " + e.getMessage().split("\n")[0]);
        }
    }
}
