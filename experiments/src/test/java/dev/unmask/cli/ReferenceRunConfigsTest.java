package dev.unmask.cli;

import dev.unmask.env.io.Json;
import dev.unmask.rollout.TrainConfig;
import dev.unmask.runs.ConfigFiles;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The committed policy runs under results/policies/ were trained from configs/*.yaml. Their
 * recorded commands, resolved with today's code, must give exactly the config each run recorded,
 * so re-running them still replays them (a changed default has to be pinned in the YAML files).
 */
class ReferenceRunConfigsTest {
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("results/policies")) && Files.isDirectory(p.resolve("configs"))) return p;
        }
        throw new AssertionError("no results/policies above " + Path.of("").toAbsolutePath());
    }

    @Test
    void recordedTrainingCommandsStillResolveToTheRecordedConfigs() throws Exception {
        Path root = repoRoot();
        List<Path> runs;
        try (var s = Files.list(root.resolve("results/policies"))) {
            runs = s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList();
        }
        assertTrue(runs.size() >= 5, runs.toString());
        for (Path run : runs) {
            List<?> args = (List<?>) Json.read(run.resolve("manifest.json"), Map.class).get("args");
            Path config = null;
            List<String> sets = new ArrayList<>();
            for (int i = 0; i < args.size() - 1; i++) {
                if (args.get(i).equals("--config")) config = root.resolve(String.valueOf(args.get(i + 1)));
                if (args.get(i).equals("--set")) sets.add(String.valueOf(args.get(i + 1)));
            }
            assertNotNull(config, run + " names its config file");
            TrainConfig now = ConfigFiles.resolve(TrainConfig.defaults(), config, sets, TrainConfig.class);
            TrainConfig recorded = TrainConfig.readRecorded(run.resolve("config.json"));
            assertEquals(TrainConfig.PER_STEP, recorded.lossNormalisation(), run + ": recorded before the key existed, so per step");
            assertEquals(recorded, now, run + ": " + args);
        }
    }

    @Test
    void thePaperTrainingConfigHoldsThePublishedSettings() {
        TrainConfig c = ConfigFiles.resolve(TrainConfig.defaults(), repoRoot().resolve("configs/grpo-paper-training.yaml"), List.of(), TrainConfig.class);
        assertEquals("grpo", c.algorithm());
        assertEquals(8, c.groupSize());
        assertEquals(0.5, c.clipEpsilon());
        assertEquals(2, c.epochs());
        assertEquals(0.0, c.klCoef());
        assertEquals(0.2, c.maxGradNorm());
        assertEquals("cosine", c.lrSchedule());
        assertEquals(0.1, c.weightDecay());
        assertEquals("correct * ((L - min(nfe, L) + 1) / L) ^ 1.0", c.reward().formula());
        assertEquals(-2.0, Math.log(c.initUnmaskProb() / (1 - c.initUnmaskProb())), 1e-3, "output bias -2");
        assertTrue(c.emptySteps(), "training samples may select nothing");
    }
}
