package dev.unmask.dllm;

import dev.unmask.env.io.PathKinds;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Folder layout: config.json, vocab.json, weights.safetensors, checksums.json (and, beside them,
 * the training manifest.json, which is documentation rather than input).
 */
public final class DllmCheckpoint {
    public static final String CONFIG = "config.json", VOCAB = "vocab.json", WEIGHTS = "weights.safetensors";

    private DllmCheckpoint() {
    }

    /** Replaces the folder {@code dir} with the checkpoint (a kill leaves the old or the new one). */
    public static void save(Path dir, BuiltinDllm model) {
        CheckpointFiles.write(dir, files(model));
    }

    /** Writes the checkpoint files into a folder that holds other files too (a finished training run). */
    public static void saveInto(Path runDir, BuiltinDllm model) {
        CheckpointFiles.writeInto(runDir, files(model));
    }

    private static Map<String, byte[]> files(BuiltinDllm model) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CONFIG, (Json.write(model.config()) + "\n").getBytes(StandardCharsets.UTF_8));
        files.put(VOCAB, (Json.write(model.vocabulary()) + "\n").getBytes(StandardCharsets.UTF_8));
        files.put(WEIGHTS, Safetensors.encode(model.weights(), Map.of("format", "unmask-dllm-v1")));
        return files;
    }

    public static BuiltinDllm load(Path dir) {
        Contents c = read(dir);
        BuiltinDllm model = new BuiltinDllm(c.config(), c.vocabulary());
        model.loadWeights(c.weights(), "checkpoint " + dir);
        model.setDescription(c.description());
        return model;
    }

    /** What a checkpoint folder holds, checksums verified, without building a model (no ND4J). */
    public record Contents(DllmConfig config, Vocabulary vocabulary, Map<String, Safetensors.Tensor> weights, String description) {
    }

    public static Contents read(Path dir) {
        PathKinds.requireFolder(CheckpointFiles.locate(dir), "dLLM checkpoint", "a built-in dLLM checkpoint folder");
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, CONFIG, VOCAB, WEIGHTS);
        DllmConfig config = parse(files.get(CONFIG), DllmConfig.class, dir, CONFIG);
        Vocabulary vocab = parse(files.get(VOCAB), Vocabulary.class, dir, VOCAB);
        Map<String, Safetensors.Tensor> weights = Safetensors.decode(files.get(WEIGHTS), dir.resolve(WEIGHTS).toString());
        String description = config.label() + " " + dir.getFileName() + " weights-sha256=" + Checksums.sha256(files.get(WEIGHTS)).substring(0, 16);
        return new Contents(config, vocab, weights, description);
    }

    /** SHA-256 of the weights file, as recorded in manifests. */
    public static String weightsSha256(Path dir) {
        return Checksums.sha256(dir.resolve(WEIGHTS));
    }

    private static <T> T parse(byte[] bytes, Class<T> type, Path dir, String name) {
        try {
            return Json.MAPPER.readValue(bytes, type);
        } catch (java.io.IOException e) {
            throw new UnmaskException("checkpoint " + dir + ": cannot parse " + name + ": " + e.getMessage().split("\n")[0]);
        }
    }
}
