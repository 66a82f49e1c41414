package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.JsonLines;
import dev.unmask.env.io.Safetensors;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmTrainer;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The folder of a built-in dLLM's training run: the invocations that trained it, the snapshot of a
 * run in progress, the architecture of its saved state, and whether the tasks fit the model.
 */
public final class DllmTrainRun {
    /** One JSON line per process that trained the run (arguments, start step). */
    public static final String INVOCATIONS = "invocations.jsonl";
    /** Sub-folder of a run in progress holding the weights of its last saved step as a checkpoint. */
    public static final String SNAPSHOT = "snapshot";

    private static final Pattern LAYER = Pattern.compile("^layer(\\d+)\\.");

    private DllmTrainRun() {
    }

    /** Removes the snapshot of a run in progress (superseded by the finished checkpoint). */
    public static void removeSnapshot(Path out) {
        Path dir = out.resolve(SNAPSHOT);
        if (!Files.isDirectory(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (IOException e) {
            throw new UnmaskException("cannot remove " + dir + ": " + e.getMessage());
        }
    }

    /** Every line of the run's {@link #INVOCATIONS}, oldest first (none for a run without it). */
    public static List<Object> readInvocations(Path out) {
        List<Object> all = new ArrayList<>();
        if (Files.isRegularFile(out.resolve(INVOCATIONS))) all.addAll(JsonLines.readObjects(out.resolve(INVOCATIONS)));
        return all;
    }

    /**
     * Fails before any step when a task's prompt plus its buffer does not fit the model (the trace
     * tasks need 137 positions, the default --max-length is 96): otherwise the trainer would shorten
     * the buffer and stop with an error at the first answer that no longer fits.
     */
    public static void checkTasksFit(BuiltinDllm model, List<String> tasks) {
        for (String name : new LinkedHashSet<>(tasks)) {
            Task task = Tasks.byName(name);
            int longestPrompt = 0;
            for (var e : task.dataset(Split.TRAIN, 1, 200)) longestPrompt = Math.max(longestPrompt, model.vocabulary().encode(e.prompt()).length);
            int needed = longestPrompt + task.defaultGenLength();
            if (needed > model.maxLength()) {
                throw new UnmaskException("task " + name + " needs a max length of at least " + needed + " (prompts of up to " + longestPrompt
                        + " tokens and a " + task.defaultGenLength() + "-token buffer); the model's is " + model.maxLength() + " (--max-length)");
            }
        }
    }

    /** The number of encoder layers in a saved trainer state, read from its tensor names (layerK.*). */
    public static int savedLayers(Path out) {
        Path weights = CheckpointFiles.locate(out.resolve(DllmTrainer.STATE_DIR)).resolve("weights.safetensors");
        int layers = 0;
        for (String name : Safetensors.read(weights).keySet()) {
            Matcher m = LAYER.matcher(name);
            if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        return layers;
    }
}
