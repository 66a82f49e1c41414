package dev.unmask.policy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
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
 * @param reward      the reward formula with its constants as trained, e.g. {@code correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))};
 *                    for a knob policy the alpha form with the range its exponent was drawn from
 * @param knobRange   a knob policy's valid knob values [lo, hi]: the range its alpha was drawn from in
 *                    training; null for a policy that reads no knob (or whose range is not known)
 * @param iterations  training iterations done when the checkpoint was written
 * @param gitCommit   the code's commit, or null outside a git checkout
 * @param gitDirty    whether tracked code differed from that commit, or null when unknown
 * @param recoveredFrom null when {@code unmask train} recorded all of this with the policy; otherwise
 *                    which fields were filled in afterwards and from which files (a policy trained
 *                    before provenance, or before the knob range, was recorded)
 * @param unrecovered the fields that could not be recovered for such a policy (left null, or said so
 *                    in the field), or null/empty when none are missing
 */
public record PolicyProvenance(
        @JsonProperty("dllm_sha256") String dllmSha256,
        @JsonProperty("dllm_path") String dllmPath,
        @JsonProperty("task") String task,
        @JsonProperty("gen_length") int genLength,
        @JsonProperty("block_length") int blockLength,
        @JsonProperty("reward") String reward,
        @JsonProperty("knob_range") @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> knobRange,
        @JsonProperty("features") List<String> features,
        @JsonProperty("algorithm") String algorithm,
        @JsonProperty("seed") long seed,
        @JsonProperty("iterations") int iterations,
        @JsonProperty("git_commit") String gitCommit,
        @JsonProperty("git_dirty") Boolean gitDirty,
        @JsonProperty("recovered_from") @JsonInclude(JsonInclude.Include.NON_NULL) String recoveredFrom,
        @JsonProperty("unrecovered") @JsonInclude(JsonInclude.Include.NON_NULL) List<String> unrecovered) {
    /** Appended to the reward of a control run, which learns from rewards permuted across the batch. */
    public static final String SHUFFLED_REWARD = ", shuffled across the batch (control run)";
    /** Fields whose metadata form is a comma-separated list. */
    private static final java.util.Set<String> LISTS = java.util.Set.of("features", "knob_range", "unrecovered");

    @JsonCreator
    public PolicyProvenance {
        features = List.copyOf(features);
        if (knobRange != null) {
            if (knobRange.size() != 2 || !(knobRange.get(0) <= knobRange.get(1))) throw new UnmaskException("provenance knob_range must be [lo, hi], got " + knobRange);
            knobRange = List.copyOf(knobRange);
        }
        if (unrecovered != null) unrecovered = List.copyOf(unrecovered);
    }

    /** A policy recorded whole at training time that reads no knob. */
    public PolicyProvenance(String dllmSha256, String dllmPath, String task, int genLength, int blockLength, String reward, List<String> features,
                            String algorithm, long seed, int iterations, String gitCommit, Boolean gitDirty) {
        this(dllmSha256, dllmPath, task, genLength, blockLength, reward, null, features, algorithm, seed, iterations, gitCommit, gitDirty, null, null);
    }

    /** This provenance with the knob range (and the reward as trained with it) filled in afterwards, saying from where. */
    public PolicyProvenance withKnobRange(List<Double> range, String rewardAsTrained, String from) {
        String note = recoveredFrom == null ? from : recoveredFrom + "; " + from;
        return new PolicyProvenance(dllmSha256, dllmPath, task, genLength, blockLength, rewardAsTrained, range, features, algorithm, seed, iterations,
                gitCommit, gitDirty, note, unrecovered);
    }

    /** This provenance with {@code fields} added to those that could not be recovered, and the reward replaced. */
    public PolicyProvenance withUnrecovered(List<String> fields, String reward, String from) {
        List<String> missing = new java.util.ArrayList<>(unrecovered == null ? List.of() : unrecovered);
        for (String f : fields) if (!missing.contains(f)) missing.add(f);
        String note = recoveredFrom == null ? from : recoveredFrom + "; " + from;
        return new PolicyProvenance(dllmSha256, dllmPath, task, genLength, blockLength, reward, knobRange, features, algorithm, seed, iterations,
                gitCommit, gitDirty, note, missing);
    }

    /** Whether the policy reads the knob input (its features list knob). */
    public boolean readsKnob() {
        return features.stream().anyMatch(f -> f.trim().equalsIgnoreCase(PolicyFeatures.KNOB.name()));
    }

    /** Whether {@code knob} lies outside the recorded knob range (false when no range is recorded). */
    public boolean knobOutsideRange(double knob) {
        return knobRange != null && (knob < knobRange.get(0) || knob > knobRange.get(1));
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
            fields.put(name, LISTS.contains(name) ? (v.isEmpty() ? List.of() : Arrays.asList(v.split(","))) : v);
        });
        if (fields.isEmpty()) return null;
        try {
            return Json.MAPPER.convertValue(fields, PolicyProvenance.class);
        } catch (IllegalArgumentException e) {
            throw new UnmaskException(source + ": unreadable provenance metadata: " + e.getMessage().split("\n")[0]);
        }
    }
}
