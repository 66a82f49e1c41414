package dev.unmask.cli;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Json;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.rollout.TrainConfig;
import dev.unmask.runs.Paths;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.runs.DllmEval;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The checkpoints under models/ load (checksums and shapes checked) and still decode what their
 * README says they decode. Guards the graph code: a change to attention, rotary positions or the
 * embeddings that silently altered a shipped model's forward pass would fail here. Careful decoding
 * (one token per step, most confident first) on 20 held-out prompts, a fixed draw, so the result
 * is deterministic; the bars sit below the 200-prompt numbers in models/README.md. The accuracy checks
 * are the slow tier ({@code mvn -B test -Pslow}); {@link ShippedModelAnswersTest} is their fast guard.
 */
class ShippedModelsTest {
    /** The tasks a shipped checkpoint was trained on: its manifest's training config. */
    static List<String> trainingTasks(Path dir) {
        Map<?, ?> config = (Map<?, ?>) Json.read(dir.resolve("manifest.json"), Map.class).get("config");
        return ((List<?>) ((Map<?, ?>) config.get("training")).get("tasks")).stream().map(String.class::cast).toList();
    }

    /** models/ of this checkout: tests run in a module folder, the launcher at the root. */
    static Path modelsDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/dllm-a"))) return p.resolve("models");
        }
        throw new AssertionError("no models/dllm-a above " + Path.of("").toAbsolutePath());
    }

    @Test
    void everyShippedCheckpointLoadsAndVerifies() throws Exception {
        List<Path> shipped;
        try (var s = Files.list(modelsDir())) {
            shipped = s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList();
        }
        assertTrue(shipped.size() >= 4, shipped.toString());
        for (Path dir : shipped) {
            try (BuiltinDllm m = DllmCheckpoint.load(dir)) {
                // room for every prompt and default buffer of the tasks it was trained on (its manifest's training config)
                for (String name : trainingTasks(dir)) {
                    Task task = Tasks.byName(name);
                    for (var e : task.dataset(Split.TRAIN, 1, 200)) {
                        int need = Task.targetSequence(m.vocabulary(), e, task.defaultGenLength()).length;
                        assertTrue(need <= m.maxLength(), dir + ": " + name + " needs " + need + " positions, the model has " + m.maxLength());
                    }
                }
                // the built-in vocabulary only ever appends tokens, so these ids mean what they meant in training
                List<String> own = m.vocabulary().tokens();
                assertEquals(own, Vocabulary.builtin().tokens().subList(0, own.size()), dir.toString());
                assertTrue(Files.isRegularFile(dir.resolve("manifest.json")), dir + " has a training manifest");
            }
        }
    }

    @Tag("slow")
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"dllm-c", "dllm-d"})
    void rotaryModelsDoArithmeticAndSudokuWithCarefulDecoding(String name) {
        try (BuiltinDllm m = DllmCheckpoint.load(modelsDir().resolve(name))) {
            Map<String, Double> acc = DllmEval.carefulAccuracy(m, List.of("arith-chain", "sudoku"), 20, 7, Split.TEST);
            assertTrue(acc.get("arith-chain") >= 0.85, acc.toString());
            assertTrue(acc.get("sudoku") >= 0.95, acc.toString());
        }
    }

    @Tag("slow")
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            "dllm-t1, lag, 0.85",   // 95.4% on 500 test prompts in full diffusion, one token per step (results/testbed/)
            "dllm-t2, lag5, 0.80",  // 90.8% on 500 test prompts
            "dllm-t3, lag48, 0.80",  // 89.4% on 500 test prompts
            "dllm-t4, lag48, 0.70",  // trained on answers shorter than the task's: 76% in full diffusion, 92% with B = 8 on 100 validation prompts
            "dllm-t5, lag48, 0.70",  // the second lag48 model, from dllm-t2 (another seed and task): 84.0% on 500 test prompts
            "dllm-t6, ducci, 0.85",  // the second task family: 95.8% on 500 test prompts
            "dllm-t7, ducci, 0.40",  // the second ducci model (2 layers): 70.6% of 500 test prompts in full diffusion (98.4% with B = 8)
            "dllm-t8, lag48, 0.70",  // the model of both families: 88% of 100 validation prompts in full diffusion (99% with B = 8)
            "dllm-t8, ducci, 0.45",  // and 69% (99% with B = 8)
            "dllm-t9, lanes-columns, 0.85"}) // an order the instance sets: 93.7% of 1,000 test prompts in full diffusion
    void eachTestbedModelDecodesItsTaskCarefully(String model, String task, double atLeast) {
        try (BuiltinDllm m = DllmCheckpoint.load(modelsDir().resolve(model))) {
            Map<String, Double> acc = DllmEval.carefulAccuracy(m, List.of(task), 30, 7, Split.TEST);
            assertTrue(acc.get(task) >= atLeast, acc.toString());
        }
    }

    @Tag("slow")
    @Test
    void dllmADecodesSudoku() {
        // the documented state of the default model: every committed policy result decodes Sudoku with it
        try (BuiltinDllm m = DllmCheckpoint.load(modelsDir().resolve("dllm-a"))) {
            Map<String, Double> acc = DllmEval.carefulAccuracy(m, List.of("sudoku"), 20, 7, Split.TEST);
            assertTrue(acc.get("sudoku") >= 0.95, acc.toString());
        }
    }

    @Test
    void theDefaultTaskIsOneTheDefaultDllmSolves() {
        // a run with every default (eval, sweep, train) must be a sensible run, not 11% arithmetic
        String evalTask = new picocli.CommandLine(new GridCommand.Eval()).getCommandSpec().findOption("--tasks").defaultValue();
        String sweepTask = new picocli.CommandLine(new GridCommand.SweepCmd()).getCommandSpec().findOption("--tasks").defaultValue();
        String trainTask = TrainConfig.defaults().task();
        assertEquals(trainTask, evalTask);
        assertEquals(trainTask, sweepTask);
        assertEquals(Tasks.byName(trainTask).defaultGenLength(), TrainConfig.defaults().genLength());
        System.setProperty("unmask.home", modelsDir().getParent().toString());
        try (var m = Denoisers.load(Paths.defaultDllm(List.of(trainTask)))) {
            Map<String, Double> acc = DllmEval.carefulAccuracy(m, List.of(trainTask), 20, 7, Split.VALIDATION);
            assertTrue(acc.get(trainTask) >= 0.9, acc.toString());
        } finally {
            System.clearProperty("unmask.home");
        }
    }

    @Test
    void aTestbedTaskDefaultsToTheShippedModelTrainedOnItAndOtherTasksToDllmA() {
        System.setProperty("unmask.home", modelsDir().getParent().toString());
        try {
            assertFalse(Paths.testbedModels().isEmpty());
            for (var e : Paths.testbedModels().entrySet()) {
                Path dir = Paths.defaultDllm(List.of(e.getKey()));
                assertEquals(modelsDir().resolve(e.getValue()), dir);
                assertTrue(trainingTasks(dir).contains(e.getKey()), dir + " was trained on " + trainingTasks(dir));
                var mixed = assertThrows(UnmaskException.class, () -> Paths.defaultDllm(List.of("sudoku", e.getKey())));
                assertTrue(mixed.getMessage().contains("--dllm"), mixed.getMessage());
            }
            assertEquals(modelsDir().resolve("dllm-a"), Paths.defaultDllm(List.of("sudoku", "arith")), "every command written before the testbed means what it meant");
            // a mix of testbed tasks gets the model trained on all of them; a mix no model knows is an error
            assertFalse(Paths.multiTaskModels().isEmpty());
            for (var e : Paths.multiTaskModels().entrySet()) {
                Path dir = Paths.defaultDllm(List.copyOf(new java.util.TreeSet<>(e.getValue())));
                assertEquals(modelsDir().resolve(e.getKey()), dir);
                assertTrue(trainingTasks(dir).containsAll(e.getValue()), dir + " was trained on " + trainingTasks(dir));
            }
            var unknownMix = assertThrows(UnmaskException.class, () -> Paths.defaultDllm(List.of("lag", "ducci")));
            assertTrue(unknownMix.getMessage().contains("no shipped dLLM knows"), unknownMix.getMessage());
        } finally {
            System.clearProperty("unmask.home");
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"dllm-a", "dllm-c"})
    void onnxRuntimeGivesTheSameAnswersAndConfidencesWithin1e5(String name) {
        // the default inference path against the SameDiff graph the models were trained in
        Path dir = modelsDir().resolve(name);
        var task = Tasks.byName("sudoku");
        var prompts = task.dataset(Split.TEST, 3, 24);
        var policy = Heuristics.parse("threshold:tau=0.9");
        try (var ort = Denoisers.load(dir);
             var sd = Denoisers.load(dir, Denoisers.Engine.SAMEDIFF)) {
            assertInstanceOf(OnnxDenoiser.class, ort);
            var a = new UnmaskingEnv(sd, task, 32, 32, 0, Reward.DEFAULT);
            var b = new UnmaskingEnv(ort, task, 32, 32, 0, Reward.DEFAULT);
            a.reset(prompts, 1);
            b.reset(prompts, 1);
            double maxDiff = 0;
            while (!a.done()) {
                var oa = a.observe();
                var ob = b.observe();
                for (int r = 0; r < oa.rows(); r++) {
                    for (int i = 0; i < oa.genLength(); i++) {
                        if (!oa.masked()[r][i]) continue;
                        maxDiff = Math.max(maxDiff, Math.abs(oa.confidence()[r][i] - ob.confidence()[r][i]));
                        maxDiff = Math.max(maxDiff, Math.abs(oa.margin()[r][i] - ob.margin()[r][i]));
                        maxDiff = Math.max(maxDiff, Math.abs(oa.entropy()[r][i] - ob.entropy()[r][i]));
                    }
                }
                boolean[][] act = policy.select(oa);
                assertArrayEquals(act, policy.select(ob));
                a.step(act);
                b.step(act);
            }
            assertTrue(b.done());
            assertTrue(maxDiff <= 1e-5, name + ": max confidence diff " + maxDiff);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(a.results().get(i).buffer(), b.results().get(i).buffer(), "every token written, in the same steps");
                assertEquals(a.results().get(i).nfe(), b.results().get(i).nfe());
            }
        }
    }
}
