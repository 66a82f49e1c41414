package dev.unmask.runs;

import dev.unmask.env.io.JsonLines;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Where a policy-training run's time went, read back from its folder: the per-iteration seconds in
 * metrics.jsonl (rollouts, the dLLM's forward passes inside them, the policy update) summed over every
 * iteration, and the wall time from manifest.json. The manifest's wall time covers only the process
 * that finished the run, so it is shown only when that process ran every iteration (its recorded
 * seconds equal the sums) and the wall time covers them (older manifests timed only what followed
 * training); otherwise the sums stand alone.
 */
public final class TrainingCost {
    private TrainingCost() {
    }

    /** One training run's cost. {@code wallSeconds} is empty when the run was resumed or its manifest did not time training (see the class comment). */
    public record Row(String run, int iterations, long episodes, long episodeSteps, double rolloutSeconds, double dllmSeconds,
                      double updateSeconds, OptionalDouble wallSeconds) {
        /** The policy update's share of rollouts + update, the two parts every iteration has. */
        public double updateShare() {
            double both = rolloutSeconds + updateSeconds;
            return both == 0 ? 0 : updateSeconds / both;
        }

        /** Seconds outside the iterations (start-up, loading, the held-out evaluation at the end); NaN without a wall time. */
        public double otherSeconds() {
            return wallSeconds.isPresent() ? wallSeconds.getAsDouble() - rolloutSeconds - updateSeconds : Double.NaN;
        }

        /** The largest of three parts: the policy update, the dLLM's forward passes, or the rest of the rollouts. */
        public String dominatedBy() {
            double rest = rolloutSeconds - dllmSeconds;
            if (updateSeconds >= dllmSeconds && updateSeconds >= rest) return "policy update";
            return dllmSeconds >= rest ? "dLLM forward" : "rollout bookkeeping";
        }
    }

    /** Reads one run folder; a clear error when it is not a training run. */
    public static Row of(Path runDir) throws IOException {
        Path metrics = runDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) throw new UnmaskException(runDir + " has no metrics.jsonl: not a policy-training run folder");
        return of(runDir, JsonLines.readObjects(metrics));
    }

    /** From the run's metrics.jsonl lines already parsed (as {@code report} has them). */
    public static Row of(Path runDir, List<Map<String, Object>> metricLines) throws IOException {
        int iterations = 0;
        long episodes = 0, steps = 0;
        double rollout = 0, dllm = 0, update = 0;
        for (Map<String, Object> m : metricLines) {
            if (!m.containsKey("iteration") || !m.containsKey("updateSeconds")) {
                throw new UnmaskException(runDir.resolve("metrics.jsonl") + " is not a policy-training log (no iteration / updateSeconds); dLLM training runs are not covered");
            }
            iterations++;
            episodes += number(m, "episodes").longValue();
            steps += number(m, "steps").longValue();
            rollout += number(m, "rolloutSeconds").doubleValue();
            dllm += number(m, "dllmSeconds").doubleValue();
            update += number(m, "updateSeconds").doubleValue();
        }
        return new Row(runDir.getFileName().toString(), iterations, episodes, steps, rollout, dllm, update,
                wallIfOneProcess(runDir.resolve("manifest.json"), rollout, update));
    }

    private static Number number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number n ? n : 0;
    }

    private static OptionalDouble wallIfOneProcess(Path manifest, double rollout, double update) throws IOException {
        if (!Files.isRegularFile(manifest)) return OptionalDouble.empty();
        Map<?, ?> m = Json.read(manifest, Map.class);
        if (!(m.get("wall_seconds") instanceof Number wall) || !(m.get("results") instanceof Map<?, ?> results)
                || !(results.get("time_this_process") instanceof Map<?, ?> t)) return OptionalDouble.empty();
        if (!(t.get("rollout_seconds") instanceof Number r) || !(t.get("policy_update_seconds") instanceof Number u)) return OptionalDouble.empty();
        boolean sameProcess = Math.abs(r.doubleValue() - rollout) < 1e-3 && Math.abs(u.doubleValue() - update) < 1e-3;
        // manifests written before the train command started its clock after training: their wall time misses the training
        boolean coversTraining = wall.doubleValue() >= rollout + update - 1e-3;
        return sameProcess && coversTraining ? OptionalDouble.of(wall.doubleValue()) : OptionalDouble.empty();
    }

    public static List<Row> of(List<Path> runDirs) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (Path p : runDirs) rows.add(of(p));
        return rows;
    }

    /** A markdown table, one row per run. */
    public static String markdown(List<Row> rows) {
        StringBuilder md = new StringBuilder("| run | iterations | episodes | dLLM passes (per episode, summed) | wall s | rollouts s | of which dLLM forward s | policy update s | other s | update share | largest of update / dLLM forward / rest of rollouts |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %,d | %,d | %s | %.1f | %.1f | %.1f | %s | %.0f%% | %s |%n",
                    r.run(), r.iterations(), r.episodes(), r.episodeSteps(),
                    r.wallSeconds().isPresent() ? String.format(Locale.ROOT, "%.1f", r.wallSeconds().getAsDouble()) : "n/a (resumed or not timed)",
                    r.rolloutSeconds(), r.dllmSeconds(), r.updateSeconds(),
                    Double.isNaN(r.otherSeconds()) ? "n/a" : String.format(Locale.ROOT, "%.1f", r.otherSeconds()),
                    100 * r.updateShare(), r.dominatedBy()));
        }
        return md.toString();
    }
}
