package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Folder: policy-config.json, policy.safetensors, checksums.json; replaced as a whole on save (a kill leaves the old or the new one), verified on load. */
public final class PolicyCheckpoint {
    public static final String CONFIG = "policy-config.json", WEIGHTS = "policy.safetensors";

    private PolicyCheckpoint() {
    }

    public static void save(Path dir, PolicyNet net) {
        CheckpointFiles.write(dir, files(net));
    }

    /** The checkpoint's files, for callers that store more beside them under one checksum list. */
    public static Map<String, byte[]> files(PolicyNet net) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CONFIG, (Json.write(net.config()) + "\n").getBytes(StandardCharsets.UTF_8));
        files.put(WEIGHTS, Safetensors.encode(net.weights(), Map.of("format", "unmask-policy-v1")));
        return files;
    }

    public static PolicyNet load(Path dir) {
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, WEIGHTS);
        PolicyConfig config;
        try {
            config = Json.MAPPER.readValue(files.get(CONFIG), PolicyConfig.class);
        } catch (java.io.IOException e) {
            throw new UnmaskException("policy checkpoint " + dir + ": cannot parse " + CONFIG + ": " + e.getMessage().split("\n")[0]);
        }
        PolicyNet net = new PolicyNet(config);
        net.loadWeights(Safetensors.decode(files.get(WEIGHTS), dir.resolve(WEIGHTS).toString()), "policy checkpoint " + dir);
        return net;
    }
}
