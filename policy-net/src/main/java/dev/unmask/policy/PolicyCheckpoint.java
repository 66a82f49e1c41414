package dev.unmask.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Folder: policy-config.json, policy.safetensors, checksums.json; replaced as a whole on save (a
 * kill leaves the old or the new one), verified on load. policy-config.json holds the
 * {@link PolicyConfig} fields and, when the trainer knew it, a {@code provenance} object
 * ({@link PolicyProvenance}), so checksums.json vouches for both.
 */
public final class PolicyCheckpoint {
    public static final String CONFIG = "policy-config.json", WEIGHTS = "policy.safetensors";
    static final String PROVENANCE = "provenance";

    private PolicyCheckpoint() {
    }

    public static void save(Path dir, PolicyNet net) {
        save(dir, net, null);
    }

    /** @param provenance where the policy came from, or null when unknown (the config file then has no provenance object) */
    public static void save(Path dir, PolicyNet net, PolicyProvenance provenance) {
        CheckpointFiles.write(dir, files(net, provenance));
    }

    /** The checkpoint's files, for callers that store more beside them under one checksum list. */
    public static Map<String, byte[]> files(PolicyNet net) {
        return files(net, null);
    }

    public static Map<String, byte[]> files(PolicyNet net, PolicyProvenance provenance) {
        Object config = net.config();
        if (provenance != null) {
            ObjectNode node = Json.MAPPER.valueToTree(net.config());
            node.set(PROVENANCE, Json.MAPPER.valueToTree(provenance));
            config = node;
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CONFIG, (Json.write(config) + "\n").getBytes(StandardCharsets.UTF_8));
        files.put(WEIGHTS, Safetensors.encode(net.weights(), Map.of("format", "unmask-policy-v1")));
        return files;
    }

    public static PolicyNet load(Path dir) {
        dev.unmask.env.io.PathKinds.requireFolder(CheckpointFiles.locate(dir), "policy", "a policy checkpoint folder (as train writes into RUN/policy)");
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, WEIGHTS);
        ObjectNode configTree = configTree(dir, files.get(CONFIG));
        configTree.remove(PROVENANCE);
        PolicyNet net = new PolicyNet(read(dir, configTree, PolicyConfig.class));
        net.loadWeights(Safetensors.decode(files.get(WEIGHTS), dir.resolve(WEIGHTS).toString()), "policy checkpoint " + dir);
        return net;
    }

    /** The checkpoint's provenance (checksum-verified), or empty for a checkpoint saved without one. */
    public static Optional<PolicyProvenance> provenance(Path dir) {
        JsonNode provenance = configTree(dir, CheckpointFiles.readVerified(dir, CONFIG).get(CONFIG)).get(PROVENANCE);
        return provenance == null || provenance.isNull() ? Optional.empty() : Optional.of(read(dir, provenance, PolicyProvenance.class));
    }

    private static ObjectNode configTree(Path dir, byte[] configFile) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(configFile);
        } catch (IOException e) {
            throw new UnmaskException("policy checkpoint " + dir + ": cannot parse " + CONFIG + ": " + e.getMessage().split("\n")[0]);
        }
        if (root instanceof ObjectNode object) return object;
        throw new UnmaskException("policy checkpoint " + dir + ": " + CONFIG + " is not a JSON object");
    }

    private static <T> T read(Path dir, JsonNode node, Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(node, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new UnmaskException("policy checkpoint " + dir + ": cannot parse " + CONFIG + ": " + e.getMessage().split("\n")[0]);
        }
    }
}
