package dev.unmask.dllm.onnx;

import dev.unmask.dllm.FastDllm;
import dev.unmask.dllm.KvCachedDllm;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.KvCache;
import dev.unmask.env.io.PathKinds;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.DllmCheckpoint;

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
        requireDllm(path);
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) return DllmDescriptor.load(path).onnx();
        if (Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR))) return DllmDescriptor.load(path.resolve(DllmOnnxExporter.DESCRIPTOR)).onnx();
        return path.resolve(DllmCheckpoint.WEIGHTS);
    }

    /** The vocabulary of the dLLM a path names (its mask, EOS and padding ids), without loading the model. */
    public static Vocabulary vocabulary(Path path) {
        requireDllm(path);
        if (Files.isRegularFile(path)) return DllmDescriptor.load(path).vocabulary();
        if (Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR))) return DllmDescriptor.load(path.resolve(DllmOnnxExporter.DESCRIPTOR)).vocabulary();
        return Json.read(path.resolve(DllmCheckpoint.VOCAB), Vocabulary.class);
    }

    /**
     * Throws a one-line error unless {@code path} can name a dLLM: a folder (a built-in checkpoint or
     * an ONNX export) or a descriptor .json file; a missing path and one of another kind are told apart.
     */
    public static void requireDllm(Path path) {
        if (Files.isDirectory(path) || Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) return;
        String is = PathKinds.describe(path);
        if (is == null) {
            throw new UnmaskException("dLLM " + path + " does not exist (expected a dLLM folder: a built-in checkpoint or an ONNX export)");
        }
        throw new UnmaskException("dLLM " + path + " is " + is + "; expected a dLLM folder (a built-in checkpoint or an ONNX export) "
                + "or an export's descriptor.json");
    }

    /**
     * What runs a built-in checkpoint. ONNX Runtime by default: 2.4-4x faster than SameDiff here, with
     * the same answers. SameDiff replays runs recorded before ONNX Runtime became the default (their
     * policies were trained on its confidences, which differ from ONNX Runtime's in the last bits).
     */
    public enum Engine {
        ONNXRUNTIME, SAMEDIFF,
        /** The hand-written Java forward ({@link dev.unmask.dllm.FastDllm}): the engine with Fast-dLLM's key/value caches. */
        FAST;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Engine parse(String s) {
            for (Engine e : values()) if (e.label().equalsIgnoreCase(s.trim())) return e;
            throw new UnmaskException("dLLM engine '" + s + "' is not one of onnxruntime, samediff, fast");
        }
    }

    /** What {@link #load(Path, Engine)} runs the dLLM at path on: the requested engine for a built-in checkpoint, ONNX Runtime for an export. */
    public static Engine engineFor(Path path, Engine requested) {
        boolean export = Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")
                || Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR));
        return export ? Engine.ONNXRUNTIME : requested;
    }

    public static Denoiser load(Path path) {
        return load(path, Engine.ONNXRUNTIME);
    }

    /** @param engine what runs a built-in checkpoint folder (an ONNX export always runs in ONNX Runtime) */
    public static Denoiser load(Path path, Engine engine) {
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) return OnnxDenoiser.load(path);
        if (Files.isRegularFile(path.resolve(DllmOnnxExporter.DESCRIPTOR))) return OnnxDenoiser.load(path.resolve(DllmOnnxExporter.DESCRIPTOR));
        requireDllm(path);
        return switch (engine) {
            case SAMEDIFF -> DllmCheckpoint.load(path);
            case FAST -> FastDllm.ofCheckpoint(path);
            case ONNXRUNTIME -> OnnxDenoiser.ofBuiltinCheckpoint(path);
        };
    }

    /**
     * As {@link #load(Path, Engine)}, with a key/value cache for semi-AR decoding. Only the fast
     * engine on a built-in checkpoint keeps keys and values; anything else is a one-line error.
     */
    public static Denoiser load(Path path, Engine engine, KvCache cache) {
        if (cache == KvCache.NONE) return load(path, engine);
        if (engineFor(path, engine) != Engine.FAST) {
            throw new UnmaskException("--cache " + cache.label() + " needs --dllm-engine fast on a built-in checkpoint (the engine that keeps keys and values); "
                    + path + " would run on " + engineFor(path, engine).label());
        }
        return new KvCachedDllm((FastDllm) load(path, engine), cache);
    }
}
