package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainingCostTest {
    private static String iteration(int i, double rollout, double dllm, double update) {
        return "{\"iteration\":" + i + ",\"episodes\":128,\"steps\":900,\"rolloutSeconds\":" + rollout + ",\"dllmSeconds\":" + dllm
                + ",\"updateSeconds\":" + update + "}";
    }

    private static void manifest(Path run, double wall, double rollout, double update) throws Exception {
        Files.writeString(run.resolve("manifest.json"), "{\"kind\":\"train\",\"wall_seconds\":" + wall + ",\"results\":{\"time_this_process\":"
                + "{\"rollout_seconds\":" + rollout + ",\"of_which_dllm_forward_seconds\":1.0,\"policy_update_seconds\":" + update + "}}}");
    }

    @Test
    void sumsEveryIterationAndShowsTheWallTimeOnlyWhenOneProcessRanThemAll(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run-a"));
        Files.writeString(run.resolve("metrics.jsonl"), iteration(1, 2.0, 1.5, 3.0) + "\n" + iteration(2, 1.0, 0.5, 2.0) + "\n\n");
        manifest(run, 10.0, 3.0, 5.0);
        TrainingCost.Row r = TrainingCost.of(run);
        assertEquals("run-a", r.run());
        assertEquals(2, r.iterations());
        assertEquals(256, r.episodes());
        assertEquals(1800, r.episodeSteps());
        assertEquals(3.0, r.rolloutSeconds(), 1e-12);
        assertEquals(2.0, r.dllmSeconds(), 1e-12);
        assertEquals(5.0, r.updateSeconds(), 1e-12);
        assertEquals(10.0, r.wallSeconds().orElseThrow(), 1e-12);
        assertEquals(2.0, r.otherSeconds(), 1e-12);
        assertEquals(5.0 / 8.0, r.updateShare(), 1e-12);
        assertEquals("policy update", r.dominatedBy());
        assertTrue(TrainingCost.markdown(List.of(r)).contains("| run-a | 2 | 256 | 1,800 | 10.0 | 3.0 | 2.0 | 5.0 | 2.0 | 63% | policy update |"),
                TrainingCost.markdown(List.of(r)));
        assertTrue(TrainingCost.markdown(List.of(r)).endsWith("|" + System.lineSeparator()), "the table ends with a newline");

        // a resumed run: the last process timed only its own iterations, so its wall time is not the run's
        manifest(run, 4.0, 1.0, 2.0);
        TrainingCost.Row resumed = TrainingCost.of(run);
        assertTrue(resumed.wallSeconds().isEmpty());
        assertTrue(Double.isNaN(resumed.otherSeconds()));
        assertTrue(TrainingCost.markdown(List.of(resumed)).contains("| n/a (resumed or not timed) |"));

        // an old manifest whose clock started after training: its wall time is shorter than the iterations
        manifest(run, 0.2, 3.0, 5.0);
        assertTrue(TrainingCost.of(run).wallSeconds().isEmpty());
    }

    @Test
    void namesTheDllmForwardWhenItDominates(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("r"));
        Files.writeString(run.resolve("metrics.jsonl"), iteration(1, 10.0, 8.0, 3.0) + "\n");
        assertEquals("dLLM forward", TrainingCost.of(run).dominatedBy());
        Files.writeString(run.resolve("metrics.jsonl"), iteration(1, 10.0, 2.0, 3.0) + "\n");
        assertEquals("rollout bookkeeping", TrainingCost.of(run).dominatedBy());
        assertTrue(TrainingCost.of(run).wallSeconds().isEmpty(), "no manifest: no wall time");
    }

    @Test
    void refusesFoldersThatAreNotPolicyTrainingRuns(@TempDir Path dir) throws Exception {
        Path sweep = Files.createDirectories(dir.resolve("sweep"));
        assertTrue(assertThrows(UnmaskException.class, () -> TrainingCost.of(sweep)).getMessage().contains("no metrics.jsonl"));
        Path dllmRun = Files.createDirectories(dir.resolve("dllm"));
        Files.writeString(dllmRun.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":2.5}\n");
        assertTrue(assertThrows(UnmaskException.class, () -> TrainingCost.of(dllmRun)).getMessage().contains("not a policy-training log"));
    }
}
