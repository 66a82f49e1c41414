package dev.unmask.policy;

import dev.unmask.env.io.PathKinds;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.Reward;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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
    /** Provenance added afterwards to a checkpoint saved without it ({@link #writeProvenanceFile}). */
    public static final String PROVENANCE_FILE = "provenance.json";
    private static final String KNOB_RANGE = "knob_range", SHUFFLED = PolicyProvenance.SHUFFLED_REWARD;

    private PolicyCheckpoint() {
    }

    public static void save(Path dir, PolicyModel net) {
        save(dir, net, null);
    }

    /** @param provenance where the policy came from, or null when unknown (the config file then has no provenance object) */
    public static void save(Path dir, PolicyModel net, PolicyProvenance provenance) {
        CheckpointFiles.write(dir, files(net, provenance));
    }

    /** The checkpoint's files, for callers that store more beside them under one checksum list. */
    public static Map<String, byte[]> files(PolicyModel net) {
        return files(net, null);
    }

    public static Map<String, byte[]> files(PolicyModel net, PolicyProvenance provenance) {
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

    /** A checkpoint's configuration and weights, checksum-verified, for a {@link PolicyModel} to load. */
    public record Stored(PolicyConfig config, Map<String, Safetensors.Tensor> weights, String source) {
    }

    public static Stored read(Path dir) {
        PathKinds.requireFolder(CheckpointFiles.locate(dir), "policy", "a policy checkpoint folder (as train writes into RUN/policy)");
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, WEIGHTS);
        ObjectNode configTree = configTree(dir, files.get(CONFIG));
        configTree.remove(PROVENANCE);
        PolicyConfig config = read(dir, configTree, PolicyConfig.class);
        return new Stored(config, Safetensors.decode(files.get(WEIGHTS), dir.resolve(WEIGHTS).toString()), "policy checkpoint " + dir);
    }

    /**
     * The checkpoint's provenance (checksum-verified), or empty for a checkpoint that has none.
     * Read from the {@code provenance} object of policy-config.json or, for a checkpoint saved
     * before provenance was recorded, from a {@link #PROVENANCE_FILE} beside it that names the
     * weights and config it describes. A knob policy saved before the knob range was recorded gets
     * its range, and the reward as trained, from its run's training config ({@code ../config.json});
     * where that is not there, the provenance says the range could not be recovered.
     */
    public static Optional<PolicyProvenance> provenance(Path dir) {
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG);
        JsonNode embedded = configTree(dir, files.get(CONFIG)).get(PROVENANCE);
        PolicyProvenance p;
        if (embedded != null && !embedded.isNull()) p = read(dir, embedded, PolicyProvenance.class);
        else if (Files.isRegularFile(CheckpointFiles.locate(dir).resolve(PROVENANCE_FILE))) p = readProvenanceFile(dir);
        else return Optional.empty();
        return Optional.of(withKnobRange(dir, p));
    }

    /**
     * Stores provenance for a checkpoint saved without it, in {@link #PROVENANCE_FILE} beside its
     * files, which stay byte for byte as they are (run manifests pin their checksums). The file
     * names the SHA-256 of the weights and config it describes, so it cannot pass for another
     * policy's.
     */
    public static void writeProvenanceFile(Path dir, PolicyProvenance provenance) {
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, WEIGHTS);
        JsonNode embedded = configTree(dir, files.get(CONFIG)).get(PROVENANCE);
        if (embedded != null && !embedded.isNull()) throw new UnmaskException("policy checkpoint " + dir + " records its provenance in " + CONFIG + " already");
        ObjectNode root = Json.object();
        ObjectNode describes = root.putObject("describes");
        describes.put(CONFIG, Checksums.sha256(files.get(CONFIG)));
        describes.put(WEIGHTS, Checksums.sha256(files.get(WEIGHTS)));
        root.set(PROVENANCE, Json.MAPPER.valueToTree(provenance));
        Json.writeAtomically(CheckpointFiles.locate(dir).resolve(PROVENANCE_FILE), root);
    }

    private static PolicyProvenance readProvenanceFile(Path dir) {
        Path file = CheckpointFiles.locate(dir).resolve(PROVENANCE_FILE);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UnmaskException("policy checkpoint " + dir + ": cannot parse " + PROVENANCE_FILE + ": " + e.getMessage().split("\n")[0]);
        }
        JsonNode describes = root == null ? null : root.get("describes"), provenance = root == null ? null : root.get(PROVENANCE);
        if (describes == null || provenance == null) {
            throw new UnmaskException("policy checkpoint " + dir + ": " + PROVENANCE_FILE + " needs \"describes\" (the checksums of the files it is about) and \"provenance\"");
        }
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, WEIGHTS);
        for (String name : List.of(CONFIG, WEIGHTS)) {
            String actual = Checksums.sha256(files.get(name));
            if (!actual.equals(describes.path(name).asText())) {
                throw new UnmaskException("policy checkpoint " + dir + ": " + PROVENANCE_FILE + " describes another " + name + " (sha256 "
                        + abbreviate(describes.path(name).asText()) + ", the checkpoint's is " + abbreviate(actual) + "): it belongs to another policy");
            }
        }
        return read(dir, provenance, PolicyProvenance.class);
    }

    private static String abbreviate(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) + "..." : sha.isEmpty() ? "(none)" : sha;
    }

    /** A knob policy's provenance from before the knob range was recorded, completed from its run's training config where that is there. */
    private static PolicyProvenance withKnobRange(Path dir, PolicyProvenance p) {
        if (!p.readsKnob() || p.knobRange() != null || p.unrecovered() != null && p.unrecovered().contains(KNOB_RANGE)) return p;
        String suffix = p.reward() != null && p.reward().endsWith(SHUFFLED) ? SHUFFLED : "";
        Path run = CheckpointFiles.locate(dir).toAbsolutePath().normalize().getParent();
        Path trainConfig = run == null ? null : run.resolve("config.json");
        if (trainConfig != null && Files.isRegularFile(trainConfig)) {
            try {
                JsonNode c = Json.MAPPER.readTree(trainConfig.toFile());
                JsonNode range = c == null ? null : c.get("knobRange");
                JsonNode features = c == null ? null : c.get("features");
                // only the config of the run that trained this policy: same features, a [lo, hi] range
                if (range != null && range.isArray() && range.size() == 2 && range.get(0).isNumber() && range.get(1).isNumber()
                        && features != null && Json.MAPPER.convertValue(features, List.class).equals(p.features())) {
                    double lo = range.get(0).asDouble(), hi = range.get(1).asDouble();
                    return p.withKnobRange(List.of(lo, hi), Reward.knobFormula(lo, hi) + suffix,
                            "knob_range and reward from the run's training config " + run.getFileName() + "/config.json (knobRange; saved before the knob range was recorded)");
                }
            } catch (IOException e) {
                // unreadable: the range stays unrecovered, said below
            }
        }
        return p.withUnrecovered(List.of(KNOB_RANGE), "correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt from a range not recorded" + suffix,
                "knob policy saved before the knob range was recorded, and no training config beside it");
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
