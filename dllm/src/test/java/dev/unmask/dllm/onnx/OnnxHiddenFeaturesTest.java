package dev.unmask.dllm.onnx;

import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.dllm.FastDllm;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Hidden-state features through ONNX Runtime: the built-in dLLM's export, and a foreign model whose descriptor names its hidden output. */
class OnnxHiddenFeaturesTest {
    private static final DllmConfig CONFIG = new DllmConfig(16, 2, 2, 32, 48, 9, true, false, true);

    private static BuiltinDllm sharp() {
        BuiltinDllm m = new BuiltinDllm(CONFIG, Vocabulary.builtin());
        Random rng = new Random(4);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        m.weights().forEach((name, t) -> {
            float[] data = new float[t.data().length];
            for (int i = 0; i < data.length; i++) data[i] = name.endsWith(".gain") ? (float) (1 + 0.2 * rng.nextGaussian()) : (float) (0.3 * rng.nextGaussian());
            w.put(name, new Safetensors.Tensor(t.shape(), data));
        });
        m.loadWeights(w, "test");
        return m;
    }

    private static int[][] batch(Vocabulary v) {
        SplittableRandom r = new SplittableRandom(5);
        int[][] out = new int[3][];
        for (int b = 0; b < 3; b++) {
            out[b] = new int[10 + 7 * b];
            for (int i = 0; i < out[b].length; i++) out[b][i] = r.nextInt(3) == 0 ? v.maskId() : 3 + r.nextInt(v.size() - 3);
        }
        return out;
    }

    private static boolean[][] queryMasks(int[][] batch, Vocabulary v) {
        boolean[][] q = new boolean[batch.length][];
        for (int b = 0; b < batch.length; b++) {
            q[b] = new boolean[batch[b].length];
            for (int i = 0; i < batch[b].length; i++) q[b][i] = batch[b][i] == v.maskId();
        }
        return q;
    }

    @Test
    void theBuiltinExportGivesTheFastEnginesFeaturesAndLeavesItsStatisticsAsTheyWere(@TempDir Path dir) throws Exception {
        BuiltinDllm model = sharp();
        Vocabulary v = model.vocabulary();
        int[][] batch = batch(v);
        boolean[][] query = queryMasks(batch, v);
        Predictions fast = FastDllm.of(model).predictWithHidden(batch, query, false);
        try (OnnxDenoiser ort = OnnxDenoiser.ofBuiltin(CONFIG, v, model.weights(), "test", dir.resolve("w"))) {
            Predictions plain = ort.predict(batch, query, false);
            Predictions with = ort.predictWithHidden(batch, query, false);
            assertNull(plain.hidden());
            for (int b = 0; b < batch.length; b++) {
                assertArrayEquals(fast.hidden()[b], with.hidden()[b], 1e-4f, "row " + b);
                assertArrayEquals(plain.confidence()[b], with.confidence()[b], 1e-6f, "the same statistics from the variant");
                assertArrayEquals(plain.top1()[b], with.top1()[b]);
            }
            assertArrayEquals(plain.confidence()[0], ort.predict(batch, query, false).confidence()[0], 0f, "predict still runs the plain export");
        }
        // a foreign model: its descriptor names the hidden output
        Path foreign = dir.resolve("foreign");
        DllmOnnxExporter.export(model, foreign);
        Files.write(foreign.resolve(DllmOnnxExporter.MODEL), DllmOnnxExporter.onnxBytes(CONFIG, v.size(), model.weights(), "test", true, true));
        Path descriptor = foreign.resolve(DllmOnnxExporter.DESCRIPTOR);
        String json = Files.readString(descriptor);
        try (OnnxDenoiser without = OnnxDenoiser.load(descriptor)) {
            UnmaskException e = assertThrows(UnmaskException.class, () -> without.predictWithHidden(batch, query, false));
            assertTrue(e.getMessage().contains("offers no hidden-state features: name its last hidden state output in the descriptor's 'hidden' field")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
        Files.writeString(descriptor, json.replace("\"logits\" : \"logits\",", "\"logits\" : \"logits\",\n  \"hidden\" : \"hidden\","));
        try (OnnxDenoiser named = OnnxDenoiser.load(descriptor)) {
            Predictions with = named.predictWithHidden(batch, query, false);
            for (int b = 0; b < batch.length; b++) assertArrayEquals(fast.hidden()[b], with.hidden()[b], 1e-4f, "row " + b);
        }
        Files.writeString(descriptor, json.replace("\"logits\" : \"logits\",", "\"logits\" : \"logits\",\n  \"hidden\" : \"last_hidden_state\","));
        UnmaskException e = assertThrows(UnmaskException.class, () -> OnnxDenoiser.load(descriptor));
        assertTrue(e.getMessage().contains("the descriptor's hidden names output 'last_hidden_state'") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
