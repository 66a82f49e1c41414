package dev.unmask.dllm.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.io.Json;
import dev.unmask.nn.onnx.Ort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A dLLM this project did not write: the tiny twin of {@code models/foreign-llada-shape}, made by
 * {@code scripts/make-foreign-dllm.py} with torch.onnx.export (vocab 64, mask 60, EOS/pad 61; the
 * script's {@code --vocab-size 64 --mask-id 60 --eos-id 61 --pad-id 61 --reserved '62:<|eot_id|>'
 * --d-model 16 --heads 2 --ff 32 --max-length 48}), loaded through its descriptor like any
 * bring-your-own model. {@code check.json} holds torch's own statistics of two rows in float64.
 */
class ForeignDllmTest {
    static Path tiny() throws Exception {
        return Path.of(ForeignDllmTest.class.getResource("/foreign-tiny/descriptor.json").toURI());
    }

    static boolean[][] all(int[][] seqs) {
        boolean[][] q = new boolean[seqs.length][];
        for (int b = 0; b < seqs.length; b++) {
            q[b] = new boolean[seqs[b].length];
            Arrays.fill(q[b], true);
        }
        return q;
    }

    static int[][] ints(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int b = 0; b < rows.size(); b++) {
            out[b] = new int[rows.get(b).size()];
            for (int i = 0; i < out[b].length; i++) out[b][i] = rows.get(b).get(i).asInt();
        }
        return out;
    }

    @Test
    void aTorchExportedDllmGivesTorchsStatisticsComputedInOnnxRuntime() throws Exception {
        JsonNode check = Json.MAPPER.readTree(Files.readString(tiny().resolveSibling("check.json")));
        int[][] seqs = ints(check.get("sequences"));
        assertNotEquals(seqs[0].length, seqs[1].length, "the check pads its second row");
        Predictions p;
        try (Denoiser d = Denoisers.load(tiny().getParent())) {
            OnnxDenoiser o = assertInstanceOf(OnnxDenoiser.class, d);
            assertTrue(o.statisticsInOnnxRuntime());
            assertEquals(64, d.vocabulary().size());
            assertEquals(60, d.vocabulary().maskId());
            assertEquals(61, d.vocabulary().eosId());
            p = d.predict(seqs, all(seqs), false);
        }
        int compared = 0;
        for (int b = 0; b < seqs.length; b++) {
            for (int i = 0; i < seqs[b].length; i++) {
                assertEquals(check.get("top1").get(b).get(i).asInt(), p.top1()[b][i], "top-1 at row " + b + " position " + i);
                assertEquals(check.get("confidence").get(b).get(i).asDouble(), p.confidence()[b][i], 2e-5, "confidence at " + b + "," + i);
                assertEquals(check.get("top2").get(b).get(i).asDouble(), p.top2Prob()[b][i], 2e-5, "top-2 at " + b + "," + i);
                assertEquals(check.get("entropy").get(b).get(i).asDouble(), p.entropy()[b][i], 5e-5, "entropy at " + b + "," + i);
                assertNotEquals(60, p.top1()[b][i], "the mask is never a choice");
                compared++;
            }
        }
        assertEquals(21, compared);
    }

    @Test
    void theStatisticsInOnnxRuntimeEqualThoseFromLogitsCopiedIntoJava() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        int[][] seqs = new int[4][];
        for (int b = 0; b < 4; b++) {
            seqs[b] = new int[20 + 6 * b];
            for (int i = 0; i < seqs[b].length; i++) seqs[b][i] = i >= 8 ? 60 : r.nextInt(29);
        }
        Predictions inOrt, inJava;
        try (OnnxDenoiser d = OnnxDenoiser.load(tiny())) {
            inOrt = d.predict(seqs, all(seqs), false);
        }
        System.setProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY, "true");
        try (OnnxDenoiser d = OnnxDenoiser.load(tiny())) {
            assertFalse(d.statisticsInOnnxRuntime());
            inJava = d.predict(seqs, all(seqs), false);
        } finally {
            System.clearProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY);
        }
        for (int b = 0; b < seqs.length; b++) {
            assertArrayEquals(inJava.top1()[b], inOrt.top1()[b], "row " + b);
            assertArrayEquals(inJava.confidence()[b], inOrt.confidence()[b], 1e-6f);
            assertArrayEquals(inJava.top2Prob()[b], inOrt.top2Prob()[b], 1e-6f);
            assertArrayEquals(inJava.entropy()[b], inOrt.entropy()[b], 1e-5f);
        }
    }

    @Test
    void onlyFiveValuesPerQueriedPositionCrossIntoJava() throws Exception {
        int[][] seqs = {new int[30], new int[24]};
        boolean[][] query = {new boolean[30], new boolean[24]};
        int queried = 0;
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < seqs[b].length; i++) {
                seqs[b][i] = i < 6 ? 3 + i : 60;
                query[b][i] = i >= 6;
                if (query[b][i]) queried++;
            }
        }
        try (OnnxDenoiser d = OnnxDenoiser.load(tiny())) {
            long before = d.valuesIntoJava();
            d.predict(seqs, query, false);
            assertEquals(5L * queried, d.valuesIntoJava() - before, "entropy, the top-2 probabilities and their ids: nothing of the vocabulary's size");
            before = d.valuesIntoJava();
            d.predict(seqs, query, true);
            assertEquals(5L * queried + 64L * queried, d.valuesIntoJava() - before, "distributions asked for: one vocabulary per queried position");
            before = d.valuesIntoJava();
            d.logits(seqs);
            assertEquals(2L * 30 * 64, d.valuesIntoJava() - before, "the logits path copies the whole [rows, length, vocab] tensor");
        }
        System.setProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY, "true");
        try (OnnxDenoiser d = OnnxDenoiser.load(tiny())) {
            d.predict(seqs, query, false);
            assertEquals(2L * 30 * 64, d.valuesIntoJava(), "statistics in Java: the logits cross");
        } finally {
            System.clearProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY);
        }
    }

    @Test
    void theStatisticsGraphGivesTheSameNumbersInChunks() throws Exception {
        int rows = 2, len = 30, vocab = 1000, mask = 7;
        float[] logits = new float[rows * len * vocab];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (3 * r.nextDouble() - 1.5);
        for (int p = 0; p < rows * len; p++) logits[p * vocab + mask] = 20; // the mask's large logit: never chosen, counted in the entropy
        boolean[][] query = new boolean[rows][len];
        for (int b = 0; b < rows; b++) for (int i = 0; i < len; i++) query[b][i] = (i + b) % 3 != 0;
        OrtEnvironment env = Ort.env();
        Predictions whole = null, chunked = null;
        for (long chunk : new long[]{OnnxStatistics.CHUNK_ELEMENTS, 3L * vocab + 1}) {
            assertEquals(chunk == OnnxStatistics.CHUNK_ELEMENTS ? 33554 : 3, OnnxStatistics.chunkPositions(vocab, chunk));
            int[][] top1 = new int[rows][len];
            float[][] conf = new float[rows][len], top2 = new float[rows][len], ent = new float[rows][len];
            float[][][] dist = new float[rows][len][];
            try (OnnxStatistics s = new OnnxStatistics(vocab, mask, "cpu", 0, 1, chunk);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(logits), new long[]{rows, len, vocab})) {
                s.compute(env, t, new int[]{0, 1}, new int[]{len, len}, query, top1, conf, top2, ent, dist);
                assertEquals(40L * (5 + vocab), s.valuesOut());
            }
            Predictions p = new Predictions(top1, conf, top2, ent, dist);
            if (whole == null) whole = p;
            else chunked = p;
        }
        Predictions java = Predictions.fromLogits(logits, len, vocab, query, true, mask);
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < len; i++) {
                if (!query[b][i]) continue;
                assertEquals(whole.top1()[b][i], chunked.top1()[b][i]);
                assertEquals(whole.confidence()[b][i], chunked.confidence()[b][i]);
                assertEquals(whole.top2Prob()[b][i], chunked.top2Prob()[b][i]);
                assertEquals(whole.entropy()[b][i], chunked.entropy()[b][i]);
                assertArrayEquals(whole.distributions()[b][i], chunked.distributions()[b][i]);
                assertEquals(java.top1()[b][i], chunked.top1()[b][i]);
                assertNotEquals(mask, chunked.top1()[b][i]);
                assertEquals(java.confidence()[b][i], chunked.confidence()[b][i], 1e-6f);
                assertEquals(java.entropy()[b][i], chunked.entropy()[b][i], 1e-5f);
            }
        }
    }

    private static Path withBudget(Path dir, Object budget) throws Exception {
        Path src = tiny().getParent();
        for (String f : new String[]{"model.onnx", "vocab.json"}) Files.copy(src.resolve(f), dir.resolve(f));
        String json = Files.readString(src.resolve("descriptor.json")).replace("\"threads\": 1", "\"threads\": 1,\n  \"max_logits_mb\": " + budget);
        Path d = dir.resolve("descriptor.json");
        Files.writeString(d, json);
        return d;
    }

    @Test
    void aLogitsBudgetSplitsEachStepIntoCallsWithTheSameStatistics(@TempDir Path dir) throws Exception {
        // one row of 41 tokens: 41 x 64 x 4 B = 10,496 B, so a 1 MiB budget holds 99 rows a call
        int[][] seqs = new int[200][];
        SplittableRandom r = new SplittableRandom(4);
        for (int b = 0; b < seqs.length; b++) {
            seqs[b] = new int[b % 2 == 0 ? 41 : 35];
            for (int i = 0; i < seqs[b].length; i++) seqs[b][i] = i >= 10 ? 60 : r.nextInt(29);
        }
        Predictions one, split;
        float[] logitsOne, logitsSplit;
        try (OnnxDenoiser d = OnnxDenoiser.load(tiny())) {
            assertEquals(1, d.callsPerStep(seqs));
            one = d.predict(seqs, all(seqs), false);
            logitsOne = d.logits(seqs);
        }
        try (OnnxDenoiser d = OnnxDenoiser.load(withBudget(dir, 1))) {
            assertEquals(1, d.descriptor().maxLogitsMb());
            assertEquals(3, d.callsPerStep(seqs));
            assertEquals(99, d.largestCallRows(seqs));
            split = d.predict(seqs, all(seqs), false);
            logitsSplit = d.logits(seqs);
        }
        for (int b = 0; b < seqs.length; b++) {
            assertArrayEquals(one.confidence()[b], split.confidence()[b], 1e-6f, "row " + b);
            assertArrayEquals(one.entropy()[b], split.entropy()[b], 1e-5f, "row " + b);
            for (int i = 0; i < seqs[b].length; i++) {
                if (one.confidence()[b][i] - one.top2Prob()[b][i] > 1e-5) assertEquals(one.top1()[b][i], split.top1()[b][i], "row " + b + " position " + i);
            }
        }
        assertEquals(logitsOne.length, logitsSplit.length);
        for (int b = 0; b < seqs.length; b++) {
            int from = b * 41 * 64;
            for (int k = 0; k < seqs[b].length * 64; k++) assertEquals(logitsOne[from + k], logitsSplit[from + k], 1e-5f, "logit " + k + " of row " + b);
        }
    }

    @Test
    void aBadLogitsBudgetIsOneLine(@TempDir Path dir) throws Exception {
        Path d = withBudget(dir, 0);
        UnmaskException e = assertThrows(UnmaskException.class, () -> OnnxDenoiser.load(d));
        assertEquals("descriptor " + d + ": max_logits_mb must be positive, got 0", e.getMessage());
        Files.writeString(d, Files.readString(d).replace("\"max_logits_mb\": 0", "\"max_logits_mb\": \"lots\""));
        e = assertThrows(UnmaskException.class, () -> OnnxDenoiser.load(d));
        assertEquals("descriptor " + d + ": field 'max_logits_mb' must be an integer, got \"lots\"", e.getMessage());
    }
}
