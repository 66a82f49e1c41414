package dev.unmask.dllm;

import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.Quiet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The hand-written forward and backward pass ({@link FastDllm}) and the fast trainer against the
 * SameDiff graph they re-implement: same logits on the shipped checkpoints, same gradient for
 * every parameter, same losses over a few training steps, interchangeable checkpoints.
 */
class FastDllmTest {
    static Path models() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/dllm-a"))) return p.resolve("models");
        }
        throw new AssertionError("no models/dllm-a above " + Path.of("").toAbsolutePath());
    }

    /** Rows of different lengths (so the batch is padded): task prompts with masked answers and random tokens. */
    static int[][] mixedBatch(Vocabulary v, int rows, int maxLength, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] out = new int[rows][];
        for (int b = 0; b < rows; b++) {
            out[b] = new int[4 + r.nextInt(maxLength - 3)];
            for (int i = 0; i < out[b].length; i++) out[b][i] = r.nextInt(3) == 0 ? v.maskId() : 3 + r.nextInt(v.size() - 3);
        }
        out[0] = Arrays.copyOf(out[0], maxLength); // one row as long as the model allows
        for (int i = 0; i < maxLength; i++) if (out[0][i] == 0) out[0][i] = v.maskId();
        return out;
    }

    /** Weights redrawn with a large spread (gains near 1): a fresh model's near-zero logits would hide errors. */
    static BuiltinDllm sharp(DllmConfig config) {
        BuiltinDllm m = new BuiltinDllm(config, Vocabulary.builtin());
        Random rng = new Random(config.initSeed());
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        m.weights().forEach((name, t) -> {
            float[] data = new float[t.data().length];
            for (int i = 0; i < data.length; i++) {
                data[i] = name.endsWith(".gain") ? (float) (1 + 0.2 * rng.nextGaussian()) : (float) (0.3 * rng.nextGaussian());
            }
            w.put(name, new Safetensors.Tensor(t.shape(), data));
        });
        m.loadWeights(w, "test");
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /** As {@link #maxAbsDiff} over each row's own positions (ONNX leaves padding positions unspecified). */
    static double maxAbsDiffWithinRows(float[] a, float[] b, int[][] batch, int vocab) {
        int maxLen = Arrays.stream(batch).mapToInt(r -> r.length).max().orElseThrow();
        double m = 0;
        for (int r = 0; r < batch.length; r++) {
            for (int i = 0; i < batch[r].length * vocab; i++) {
                int at = r * maxLen * vocab + i;
                m = Math.max(m, Math.abs(a[at] - b[at]));
            }
        }
        return m;
    }

    static void assertSameLogits(BuiltinDllm sameDiff, FastDllm fast, int[][] batch, double tolerance, String what) {
        float[] expected = sameDiff.logits(batch), actual = fast.logits(batch);
        double diff = maxAbsDiff(expected, actual);
        ReferenceForward ref = new ReferenceForward(sameDiff.config(), sameDiff.vocabulary().size(), sameDiff.weights());
        int maxLen = Arrays.stream(batch).mapToInt(r -> r.length).max().orElseThrow(), v = sameDiff.vocabulary().size();
        double errSd = 0, errFast = 0;
        for (int r = 0; r < batch.length; r++) {
            double[][] exact = ref.logits(batch[r]);
            for (int i = 0; i < batch[r].length; i++) {
                for (int j = 0; j < v; j++) {
                    int at = (r * maxLen + i) * v + j;
                    errSd = Math.max(errSd, Math.abs(expected[at] - exact[i][j]));
                    errFast = Math.max(errFast, Math.abs(actual[at] - exact[i][j]));
                }
            }
        }
        System.err.printf("%s: max |logit diff| %.3g (logits up to %.3g); vs double: samediff %.3g fast %.3g%n", what, diff, maxAbs(expected), errSd, errFast);
        // SameDiff's own float error on dllm-a's logits (up to 16) is about 3e-5 against the double reference, so the
        // two float implementations are compared relative to the logits' scale; and the fast one must be as accurate
        assertTrue(diff <= tolerance * Math.max(1, maxAbs(expected)), what + ": max |logit diff| " + diff);
        assertTrue(errFast <= 2 * errSd + 1e-6, what + ": fast forward is " + errFast + " from the double reference, SameDiff " + errSd);
    }

    @Test
    void forwardEqualsSameDiffOnTheShippedCheckpoints() {
        for (String name : List.of("dllm-a", "dllm-c")) {
            BuiltinDllm sameDiff = DllmCheckpoint.load(models().resolve(name));
            FastDllm fast = FastDllm.of(sameDiff);
            int[][] batch = mixedBatch(sameDiff.vocabulary(), 6, sameDiff.maxLength(), 5);
            assertSameLogits(sameDiff, fast, batch, 1e-5, name);
            // a single row, then a longer batch again: buffers are reused across shapes
            assertSameLogits(sameDiff, fast, new int[][]{batch[3]}, 1e-5, name + " one row");
            assertSameLogits(sameDiff, fast, mixedBatch(sameDiff.vocabulary(), 9, sameDiff.maxLength(), 6), 1e-5, name + " again");
            // as a Denoiser: the same answers and confidences
            boolean[][] all = new boolean[batch.length][];
            for (int r = 0; r < batch.length; r++) {
                all[r] = new boolean[batch[r].length];
                Arrays.fill(all[r], true);
            }
            var expected = sameDiff.predict(batch, all, false);
            var actual = fast.predict(batch, all, false);
            for (int r = 0; r < batch.length; r++) {
                assertArrayEquals(expected.top1()[r], actual.top1()[r], name + " row " + r);
                assertArrayEquals(expected.confidence()[r], actual.confidence()[r], 1e-5f, name + " row " + r);
            }
            assertTrue(fast.describe().startsWith("fast:builtin:"), fast.describe());
        }
    }

    @Test
    void forwardEqualsSameDiffWithRotaryPositionsOnly() {
        BuiltinDllm sameDiff = sharp(new DllmConfig(16, 2, 2, 32, 40, 3, true, false, true));
        FastDllm fast = FastDllm.of(sameDiff);
        assertSameLogits(sameDiff, fast, mixedBatch(sameDiff.vocabulary(), 5, 40, 8), 1e-5, "rotary only");
    }

    /** SameDiff's loss and gradient of every parameter for a training batch. */
    static Map<String, float[]> sameDiffGradients(BuiltinDllm model, DllmTrainer trainer, DllmTrainer.Batch batch, double[] loss) {
        Map<String, INDArray> ph = trainer.placeholders(batch);
        List<String> names = model.trainableVariables().stream().map(SDVariable::name).toList();
        Map<String, INDArray> g = Quiet.call(() -> model.graph().calculateGradients(ph, names));
        loss[0] = model.graph().output(ph, BuiltinDllm.LOSS).get(BuiltinDllm.LOSS).getDouble(0);
        Map<String, float[]> out = new TreeMap<>();
        g.forEach((k, v) -> out.put(k, v.dup('c').data().asFloat()));
        return out;
    }

    @Test
    void gradientsEqualSameDiffForEveryParameter() {
        List<DllmConfig> configs = List.of(
                new DllmConfig(16, 2, 2, 32, 64, 4),                        // learned positions
                new DllmConfig(16, 2, 2, 32, 64, 5, true, false, false),    // rotary + learned positions (dllm-c's kind)
                new DllmConfig(16, 1, 4, 24, 64, 6, true, false, true));   // rotary only
        for (DllmConfig config : configs) {
            BuiltinDllm model = sharp(config);
            // arith prompts differ in length (padded rows); a long-buffer step adds EOS runs
            DllmTrainer trainer = new DllmTrainer(model, new DllmTrainConfig(List.of("arith", "sort"), 10, 6, 1e-3, 2, 1.0, 3, 10, 0.5),
                    DllmTrainer.Kind.SAMEDIFF);
            FastDllm fast = FastDllm.of(model);
            for (int step = 0; step < 2; step++) {
                DllmTrainer.Batch batch = trainer.batch(step);
                double[] expectedLoss = new double[1];
                Map<String, float[]> expected = sameDiffGradients(model, trainer, batch, expectedLoss);
                double loss = fast.lossAndGradients(batch.noisy(), batch.targets(), batch.weights());
                assertEquals(expectedLoss[0], loss, 1e-5 * Math.abs(expectedLoss[0]), config + " loss");
                Map<String, Safetensors.Tensor> actual = fast.gradientTensors();
                assertEquals(expected.keySet(), actual.keySet());
                double largest = 0;
                for (float[] e : expected.values()) largest = Math.max(largest, maxAbs(e));
                double worst = 0;
                for (String name : expected.keySet()) {
                    float[] e = expected.get(name), a = actual.get(name).data();
                    // relative to the tensor's largest entry; a floor of 1e-6 of the largest gradient anywhere covers
                    // tensors whose exact gradient is 0 (without rotary, softmax ignores the key bias) and holds only noise
                    double rel = maxAbsDiff(e, a) / Math.max(maxAbs(e), 1e-2 * largest);
                    worst = Math.max(worst, rel);
                    assertTrue(rel < 1e-4, config + " step " + step + ": " + name + " gradient differs by " + rel + " of its largest entry ("
                            + maxAbs(e) + "; largest gradient " + largest + ")");
                }
                System.err.printf("%s step %d: loss %.6f vs %.6f, worst gradient difference %.2g of the tensor's largest entry%n",
                        config, step, loss, expectedLoss[0], worst);
            }
        }
    }

    @Test
    void bothTrainersGiveTheSameLossesFromTheSameStart() {
        DllmConfig config = new DllmConfig(16, 2, 2, 32, 64, 7, true, false, false);
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sort", "arith"), 8, 8, 3e-3, 3, 1.0, 9, 10, 0.2);
        DllmTrainer sameDiff = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.SAMEDIFF);
        DllmTrainer fast = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.FAST);
        for (int i = 0; i < 8; i++) {
            DllmTrainer.StepReport a = sameDiff.trainStep(), b = fast.trainStep();
            assertEquals(a.task(), b.task());
            assertEquals(a.loss(), b.loss(), 1e-4 * a.loss(), "loss at step " + a.step());
            assertEquals(a.gradNorm(), b.gradNorm(), 1e-3 * a.gradNorm(), "gradient norm at step " + a.step());
        }
        Map<String, Safetensors.Tensor> wa = sameDiff.model().weights(), wb = fast.model().weights();
        for (String k : wa.keySet()) assertTrue(maxAbsDiff(wa.get(k).data(), wb.get(k).data()) < 1e-3, k);
    }

    @Test
    void fastTrainerResumesExactlyAndRefusesTheOtherTrainersState(@TempDir Path dir) {
        DllmConfig config = new DllmConfig(16, 1, 2, 32, 64, 1);
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sort"), 40, 8, 3e-3, 5, 1.0, 9, 10, 0.0);
        DllmTrainer a = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.FAST);
        double first = 0, last = 0;
        for (int i = 0; i < 10; i++) first += a.trainStep().loss() / 10;
        a.saveState(dir.resolve("run"));
        assertEquals(DllmTrainer.Kind.FAST, DllmTrainer.savedKind(dir.resolve("run")));
        for (int i = 0; i < 20; i++) last = a.trainStep().loss();
        assertTrue(last < first * 0.8, "loss " + first + " -> " + last);

        DllmTrainer b = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.FAST);
        assertTrue(b.resume(dir.resolve("run")));
        assertEquals(10, b.step());
        for (int i = 0; i < 20; i++) b.trainStep();
        var wa = a.model().weights();
        var wb = b.model().weights();
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), 0f, k);

        DllmTrainer other = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.SAMEDIFF);
        UnmaskException e = assertThrows(UnmaskException.class, () -> other.resume(dir.resolve("run")));
        assertTrue(e.getMessage().contains("written by the fast trainer; resume it with --trainer fast"), e.getMessage());
    }

    @Test
    void aStateWrittenBeforeTheFastTrainerExistedIsSameDiffs(@TempDir Path dir) throws Exception {
        DllmConfig config = new DllmConfig(16, 1, 2, 32, 64, 1);
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sort"), 4, 4, 3e-3, 1, 1.0, 9, 10, 0.0);
        DllmTrainer t = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.SAMEDIFF);
        t.trainStep();
        t.saveState(dir);
        // rewrite state.json as the old trainer wrote it: no "trainer" field
        Path state = dir.resolve(DllmTrainer.STATE_DIR);
        Map<String, byte[]> files = new TreeMap<>();
        for (String f : List.of("weights.safetensors", "adam.safetensors")) files.put(f, Files.readAllBytes(state.resolve(f)));
        files.put("state.json", Files.readString(state.resolve("state.json")).replaceAll(",?\\s*\"trainer\"\\s*:\\s*\"samediff\"", "").getBytes());
        CheckpointFiles.write(state, files);
        assertFalse(Files.readString(state.resolve("state.json")).contains("trainer"));
        assertEquals(DllmTrainer.Kind.SAMEDIFF, DllmTrainer.savedKind(dir));
        DllmTrainer fast = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.FAST);
        assertThrows(UnmaskException.class, () -> fast.resume(dir));
        assertTrue(new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), cfg, DllmTrainer.Kind.SAMEDIFF).resume(dir));
    }

    @Test
    void checkpointsOfTheFastTrainerLoadInSameDiffAndExportToOnnx(@TempDir Path dir) {
        DllmConfig config = new DllmConfig(16, 2, 2, 32, 96, 2, true, true, false);
        DllmTrainer t = new DllmTrainer(new BuiltinDllm(config, Vocabulary.builtin()), new DllmTrainConfig(List.of("arith"), 5, 8, 3e-3, 1, 1.0, 4, 10, 0.0),
                DllmTrainer.Kind.FAST);
        Map<String, Safetensors.Tensor> before = t.model().weights();
        for (int i = 0; i < 5; i++) t.trainStep();
        BuiltinDllm trained = t.model();
        assertNotEquals(before.get("head.weight").data()[0], trained.weights().get("head.weight").data()[0], "model() hands back the trained weights");
        DllmCheckpoint.save(dir.resolve("ck"), trained);
        BuiltinDllm loaded = DllmCheckpoint.load(dir.resolve("ck"));
        int[][] batch = mixedBatch(loaded.vocabulary(), 4, 96, 3);
        FastDllm fast = new FastDllm(config, loaded.vocabulary(), trained.weights());
        assertSameLogits(loaded, fast, batch, 1e-5, "reloaded checkpoint");
        DllmOnnxExporter.export(loaded, dir.resolve("onnx"));
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("onnx/descriptor.json"))) {
            double diff = maxAbsDiffWithinRows(ort.logits(batch), fast.logits(batch), batch, loaded.vocabulary().size());
            assertTrue(diff <= 1e-4, "ONNX export vs fast forward: " + diff);
        }
    }

    @Test
    void wrongWeightsAreNamed() {
        BuiltinDllm m = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 1), Vocabulary.builtin());
        Map<String, Safetensors.Tensor> w = new TreeMap<>(m.weights());
        w.remove("head.bias");
        UnmaskException e = assertThrows(UnmaskException.class, () -> new FastDllm(m.config(), m.vocabulary(), w));
        assertEquals("weights: tensor head.bias is missing", e.getMessage());
        w.put("head.bias", new Safetensors.Tensor(new long[]{3}, new float[3]));
        e = assertThrows(UnmaskException.class, () -> new FastDllm(m.config(), m.vocabulary(), w));
        assertTrue(e.getMessage().contains("tensor head.bias has shape [3] but the config expects"), e.getMessage());
    }
}
