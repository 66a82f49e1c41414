package dev.unmask.runs;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.task.Split;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manifest of a read-only look at a dLLM (dllm eval, dllm probe): the command, its settings, the
 * weights' SHA-256, the engine and the files it wrote.
 */
public final class CheckpointRunManifest {
    private CheckpointRunManifest() {
    }

    /**
     * @param args  the command line as given (replayed by reproduce)
     * @param files the files written into {@code out}, relative to it
     */
    public static void write(String kind, List<String> args, Path checkpoint, List<String> tasks, int n, long seed, Split split, int batch,
                             Denoisers.Engine engine, long startNanos, Instant started, Path out, List<String> files) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("checkpoint", checkpoint.toString());
        config.put("tasks", tasks);
        config.put("n", n);
        config.put("seed", seed);
        config.put("split", split.label());
        config.put("batch", batch);
        RunManifest manifest = new RunManifest(kind, args, config).startedAt(startNanos, started);
        manifest.input("dllm_weights", Denoisers.weightsFile(checkpoint));
        manifest.dllmEngine(Denoisers.engineFor(checkpoint, engine).label());
        manifest.write(out, files.stream().map(out::resolve).toList());
    }
}
