package dev.unmask.env.denoiser.onnx;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.model.DllmCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens whichever dLLM a path names: a descriptor JSON file (or a folder holding
 * {@code descriptor.json}) is an {@link OnnxDenoiser}; any other folder is a built-in checkpoint.
 * Commands that take a dLLM can call this instead of {@link DllmCheckpoint#load} to accept both.
 */
public final class Denoisers {
    private Denoisers() {
    }

    /** The file that holds the model's weights (ONNX file or weights.safetensors), for manifests' input checksums. */
    public static Path weightsFile(Path path) {
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) return DllmDescriptor.load(path).onnx();
        if (Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR))) return DllmDescriptor.load(path.resolve(DllmOnnxExporter.DESCRIPTOR)).onnx();
        return path.resolve(DllmCheckpoint.WEIGHTS);
    }

    public static Denoiser load(Path path) {
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) return OnnxDenoiser.load(path);
        if (Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR))) return OnnxDenoiser.load(path.resolve(DllmOnnxExporter.DESCRIPTOR));
        return DllmCheckpoint.load(path);
    }
}
