package dev.unmask.dllm;

import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.nn.TransformerBlocks;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.*;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BuiltinDllmTest {
    static BuiltinDllm tiny(long seed) {
        return new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, seed), Vocabulary.builtin());
    }

    @Test
    void aRowGetsTheSamePredictionsAloneAsInAPaddedBatch() {
        BuiltinDllm m = tiny(3);
        Vocabulary v = m.vocabulary();
        int[] shortRow = v.encode("<sort>12,03=<mask><mask><mask>");
        int[] longRow = v.encode("<arith>12+34-5=<mask><mask><mask><mask><mask><mask>");
        boolean[] qs = new boolean[shortRow.length], ql = new boolean[longRow.length];
        java.util.Arrays.fill(qs, true);
        java.util.Arrays.fill(ql, true);
        Predictions alone = m.predict(new int[][]{shortRow}, new boolean[][]{qs}, true);
        Predictions batched = m.predict(new int[][]{longRow, shortRow}, new boolean[][]{ql, qs}, true);
        for (int i = 0; i < shortRow.length; i++) {
            assertEquals(alone.top1()[0][i], batched.top1()[1][i]);
            assertEquals(alone.confidence()[0][i], batched.confidence()[1][i], 1e-5, "padding must not leak into attention");
            assertEquals(alone.entropy()[0][i], batched.entropy()[1][i], 1e-5);
            float sum = 0;
            for (float p : batched.distributions()[1][i]) sum += p;
            assertEquals(1f, sum, 1e-4);
            assertTrue(batched.confidence()[1][i] >= batched.top2Prob()[1][i]);
        }
    }

    @Test
    void unqueriedPositionsAreMarked() {
        BuiltinDllm m = tiny(3);
        int[] row = m.vocabulary().encode("<sort>12=<mask><mask>");
        boolean[] q = new boolean[row.length];
        q[row.length - 1] = true;
        Predictions p = m.predict(new int[][]{row}, new boolean[][]{q}, false);
        assertEquals(-1, p.top1()[0][0]);
        assertTrue(Float.isNaN(p.confidence()[0][0]));
        assertTrue(p.top1()[0][row.length - 1] >= 0);
        assertNull(p.distributions());
    }

    @Test
    void badInputIsAOneLineError() {
        BuiltinDllm m = tiny(3);
        int[] tooLong = new int[65];
        UnmaskException e = assertThrows(UnmaskException.class, () -> m.predict(new int[][]{tooLong}, new boolean[][]{new boolean[65]}, false));
        assertEquals("sequence 0 has 65 tokens; the model allows 1..64", e.getMessage());
        int[] bad = {3, 99};
        e = assertThrows(UnmaskException.class, () -> m.predict(new int[][]{bad}, new boolean[][]{new boolean[2]}, false));
        assertTrue(e.getMessage().contains("token id 99, outside the vocabulary"), e.getMessage());
        assertThrows(UnmaskException.class, () -> m.predict(new int[257][], new boolean[257][], false));
    }

    /** Row-major [rows, d] float matrix of a SameDiff output. */
    private static float[] run(org.nd4j.autodiff.samediff.SameDiff sd, String name) {
        return sd.output(java.util.Map.of(), name).get(name).dup('c').data().asFloat();
    }

    @Test
    void rotaryScoresDependOnlyOnTheOffsetBetweenQueryAndKey() {
        int d = 8, heads = 2, positions = 12;
        var sd = org.nd4j.autodiff.samediff.SameDiff.create();
        float[] pos = new float[positions];
        for (int p = 0; p < positions; p++) pos[p] = p;
        var column = sd.constant("pos", org.nd4j.linalg.factory.Nd4j.create(pos, new long[]{positions, 1}, 'c'));
        var rope = TransformerBlocks.Rotary.of(sd, "rope", column, d, heads);
        java.util.Random rng = new java.util.Random(3);
        float[] qv = new float[d], kv = new float[d];
        for (int c = 0; c < d; c++) {
            qv[c] = (float) rng.nextGaussian();
            kv[c] = (float) rng.nextGaussian();
        }
        // the same query vector and key vector at every position
        float[] qs = new float[positions * d], ks = new float[positions * d];
        for (int p = 0; p < positions; p++) {
            System.arraycopy(qv, 0, qs, p * d, d);
            System.arraycopy(kv, 0, ks, p * d, d);
        }
        rope.apply(sd.constant("q", org.nd4j.linalg.factory.Nd4j.create(qs, new long[]{positions, d}, 'c'))).rename("qr");
        rope.apply(sd.constant("k", org.nd4j.linalg.factory.Nd4j.create(ks, new long[]{positions, d}, 'c'))).rename("kr");
        float[] q = run(sd, "qr"), k = run(sd, "kr");
        java.util.function.BiFunction<Integer, Integer, double[]> headScores = (m, n) -> {
            double[] s = new double[heads];
            for (int c = 0; c < d; c++) s[c / (d / heads)] += q[m * d + c] * k[n * d + c];
            return s;
        };
        // rotation keeps each head's length; position 0 is not rotated at all
        for (int c = 0; c < d; c++) assertEquals(qv[c], q[c], 1e-6);
        for (int offset = -3; offset <= 3; offset++) {
            double[] ref = headScores.apply(5, 5 + offset);
            for (int m = 3; m < 8; m++) assertArrayEquals(ref, headScores.apply(m, m + offset), 1e-4, "offset " + offset + " at " + m);
        }
        assertNotEquals(headScores.apply(5, 5)[0], headScores.apply(5, 7)[0], 1e-3, "different offsets score differently");
    }

    @Test
    void aConfigWrittenBeforeRotaryExistedLoadsWithoutIt() throws Exception {
        DllmConfig old = Json.MAPPER.readValue(
                "{\"dModel\":16,\"layers\":1,\"heads\":2,\"ffDim\":32,\"maxLength\":64,\"initSeed\":3}", DllmConfig.class);
        assertEquals(new DllmConfig(16, 1, 2, 32, 64, 3), old);
        assertFalse(old.rotary());
        assertFalse(old.fourierDigits());
        assertFalse(old.rotaryOnly());
        assertEquals("dLLM config: rotaryOnly needs rotary positions",
                assertThrows(UnmaskException.class, () -> new DllmConfig(16, 1, 2, 32, 64, 3, false, false, true)).getMessage());
        UnmaskException e = assertThrows(UnmaskException.class, () -> new DllmConfig(12, 1, 4, 32, 64, 3, true, false));
        assertEquals("dLLM config: rotary positions need an even head width, not 3", e.getMessage());
    }

    @Test
    void aRotaryModelRoundTripsAndDiffersFromThePlainOne(@TempDir Path dir) throws Exception {
        BuiltinDllm plain = tiny(5);
        BuiltinDllm rope = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 5, true, false), Vocabulary.builtin());
        assertEquals(plain.parameterCount(), rope.parameterCount(), "rotary positions add no weights");
        assertTrue(rope.describe().endsWith("-rope"), rope.describe());
        Vocabulary v = rope.vocabulary();
        int[][] seq = {v.encode("<arith>3+5=")};
        assertFalse(java.util.Arrays.equals(plain.logits(seq), rope.logits(seq)), "same weights, rotated attention");
        DllmCheckpoint.save(dir.resolve("ck"), rope);
        BuiltinDllm back = DllmCheckpoint.load(dir.resolve("ck"));
        assertTrue(back.config().rotary());
        assertArrayEquals(rope.logits(seq), back.logits(seq));
    }

    @Test
    void fourierDigitsStartFromCosAndSinOfPeriodTen() {
        BuiltinDllm plain = tiny(4);
        BuiltinDllm fourier = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 4, false, true), Vocabulary.builtin());
        var a = plain.weights().get("embed.tokens");
        var b = fourier.weights().get("embed.tokens");
        Vocabulary v = fourier.vocabulary();
        int d = 16;
        for (int digit = 0; digit <= 9; digit++) {
            int row = v.encode(String.valueOf(digit))[0];
            assertEquals(0.1 * Math.cos(2 * Math.PI * 3 * digit / 10), b.data()[row * d + 4], 1e-7, "cos k=3 of " + digit);
            assertEquals(0.1 * Math.sin(2 * Math.PI * digit / 10), b.data()[row * d + 1], 1e-7, "sin k=1 of " + digit);
            for (int c = 10; c < d; c++) assertEquals(a.data()[row * d + c], b.data()[row * d + c], "other columns keep the seeded draw");
        }
        int plus = v.encode("+")[0];
        for (int c = 0; c < d; c++) assertEquals(a.data()[plus * d + c], b.data()[plus * d + c], "non-digit rows are untouched");
        assertTrue(fourier.describe().endsWith("-fourier"), fourier.describe());
    }

    @Test
    void aWidenedVocabularyKeepsEveryPredictionAndRejectsAReorderedOne() {
        List<String> all = Vocabulary.builtin().tokens();
        Vocabulary narrow = new Vocabulary(all.subList(0, all.size() - 2), "<mask>", "<eos>", "<pad>");
        BuiltinDllm before = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 7, true, true), narrow);
        BuiltinDllm after = before.withVocabulary(Vocabulary.builtin());
        assertEquals(Vocabulary.builtin().tokens(), after.vocabulary().tokens());
        int[] row = narrow.encode("<lag>7204=<mask><mask><mask><mask>");
        boolean[] q = new boolean[row.length];
        java.util.Arrays.fill(q, true);
        Predictions a = before.predict(new int[][]{row}, new boolean[][]{q}, false), b = after.predict(new int[][]{row}, new boolean[][]{q}, false);
        for (int i = 0; i < row.length; i++) {
            assertEquals(a.top1()[0][i], b.top1()[0][i]);
            assertEquals(a.confidence()[0][i], b.confidence()[0][i], 1e-6);
        }
        // the new tokens are usable in a prompt: their embedding rows are not zero
        int lag48 = Vocabulary.builtin().encode("<lag48>")[0];
        float[] emb = after.weights().get("embed.tokens").data();
        double norm = 0;
        for (int c = 0; c < 16; c++) norm += Math.abs(emb[lag48 * 16 + c]);
        assertTrue(norm > 0);
        List<String> swapped = new java.util.ArrayList<>(all);
        java.util.Collections.swap(swapped, 6, 7);
        UnmaskException e = assertThrows(UnmaskException.class, () -> before.withVocabulary(new Vocabulary(swapped, "<mask>", "<eos>", "<pad>")));
        assertTrue(e.getMessage().contains("does not extend"), e.getMessage());
    }

    @Test
    void addedLayersStartAsThePassThroughAndThenLearn() {
        BuiltinDllm base = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 7, true, true), Vocabulary.builtin());
        BuiltinDllm grown = base.withAddedLayers(2);
        assertEquals(3, grown.config().layers());
        assertTrue(grown.describe().startsWith("builtin:d16-l3-h2-rope-fourier"), grown.describe());
        var before = base.weights();
        var after = grown.weights();
        for (String k : before.keySet()) assertArrayEquals(before.get(k).data(), after.get(k).data(), 0f, k + " is kept");
        assertTrue(after.containsKey("layer2.attn.q.weight") && !before.containsKey("layer1.attn.q.weight"));
        Vocabulary v = base.vocabulary();
        int[][] rows = {v.encode("<lag>7204=<mask>1<mask><mask>"), v.encode("<ducci>31415926,<mask><mask>")};
        // the same function, to the bit, in the SameDiff graph and in the fast model
        float[] a = base.logits(rows), b = grown.logits(rows);
        assertArrayEquals(a, b, 0f);
        assertArrayEquals(FastDllm.of(base).logits(rows), FastDllm.of(grown).logits(rows), 0f);

        // a few training steps move the new layers away from the pass-through
        DllmTrainer t = new DllmTrainer(grown, new DllmTrainConfig(List.of("sort"), 3, 8, 3e-3, 1, 1.0, 9, 10, 0.0), DllmTrainer.Kind.FAST);
        for (int i = 0; i < 3; i++) t.trainStep();
        var trained = t.model().weights();
        for (String k : List.of("layer1.attn.out.weight", "layer2.mlp.out.weight", "layer2.attn.q.weight")) {
            float[] w = trained.get(k).data(), w0 = after.get(k).data();
            double moved = 0;
            for (int i = 0; i < w.length; i++) moved += Math.abs(w[i] - w0[i]);
            assertTrue(moved > 0, k + " did not move");
        }
        assertThrows(UnmaskException.class, () -> base.withAddedLayers(0));
    }

    @Test
    void checkpointRoundTripsBitForBit(@TempDir Path dir) throws Exception {
        BuiltinDllm m = tiny(5);
        DllmCheckpoint.save(dir.resolve("ck"), m);
        BuiltinDllm back = DllmCheckpoint.load(dir.resolve("ck"));
        assertEquals(m.config(), back.config());
        assertEquals(m.vocabulary(), back.vocabulary());
        var a = m.weights();
        var b = back.weights();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            float[] x = a.get(k).data(), y = b.get(k).data();
            for (int i = 0; i < x.length; i++) assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), k);
        }
        DllmCheckpoint.save(dir.resolve("ck2"), back);
        assertArrayEquals(Files.readAllBytes(dir.resolve("ck/weights.safetensors")), Files.readAllBytes(dir.resolve("ck2/weights.safetensors")));
    }

    @Test
    void corruptTruncatedOrMismatchedCheckpointsAreNamed(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("ck");
        DllmCheckpoint.save(ck, tiny(5));
        Path w = ck.resolve(DllmCheckpoint.WEIGHTS);
        byte[] bytes = Files.readAllBytes(w);
        Files.write(w, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        UnmaskException e = assertThrows(UnmaskException.class, () -> DllmCheckpoint.load(ck));
        assertTrue(e.getMessage().contains("weights.safetensors fails its SHA-256 check"), e.getMessage());

        Path ck2 = dir.resolve("ck2");
        DllmCheckpoint.save(ck2, tiny(5));
        // a config that no longer matches the weights, with checksums re-signed: the shape check must catch it
        String cfg = Files.readString(ck2.resolve(DllmCheckpoint.CONFIG)).replace("\"dModel\" : 16", "\"dModel\" : 32");
        var files = new java.util.TreeMap<String, byte[]>();
        files.put(DllmCheckpoint.CONFIG, cfg.getBytes());
        files.put(DllmCheckpoint.VOCAB, Files.readAllBytes(ck2.resolve(DllmCheckpoint.VOCAB)));
        files.put(DllmCheckpoint.WEIGHTS, Files.readAllBytes(ck2.resolve(DllmCheckpoint.WEIGHTS)));
        CheckpointFiles.write(ck2, files);
        e = assertThrows(UnmaskException.class, () -> DllmCheckpoint.load(ck2));
        assertTrue(e.getMessage().matches(".*tensor \\S+ has shape \\[.*\\] but the config expects \\[.*"), e.getMessage());

        e = assertThrows(UnmaskException.class, () -> DllmCheckpoint.load(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void trainingLowersTheLossAndResumesExactly(@TempDir Path dir) {
        trainingLowersTheLossAndResumesExactly(DllmTrainer.Kind.FAST, dir);
    }

    /** The SameDiff trainer (runs trained before the fast one; its losses match the fast trainer's in FastDllmTest): its graph's first build is most of this class's time. */
    @Test
    @Tag("slow")
    void theGraphTrainerLowersTheLossAndResumesExactly(@TempDir Path dir) {
        trainingLowersTheLossAndResumesExactly(DllmTrainer.Kind.SAMEDIFF, dir);
    }

    private void trainingLowersTheLossAndResumesExactly(DllmTrainer.Kind kind, Path dir) {
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sort"), 40, 8, 3e-3, 5, 1.0, 9, 10, 0.0);
        BuiltinDllm m = tiny(1);
        DllmTrainer t = new DllmTrainer(m, cfg, kind);
        double first = 0, last = 0;
        for (int i = 0; i < 40; i++) {
            double loss = t.trainStep().loss();
            if (i < 5) first += loss / 5;
            if (i >= 35) last += loss / 5;
        }
        assertTrue(last < first * 0.8, "loss " + first + " -> " + last);

        // resume: 10 steps, save, 5 more == 15 straight
        BuiltinDllm a = tiny(1), b = tiny(1);
        DllmTrainer ta = new DllmTrainer(a, cfg, kind);
        for (int i = 0; i < 10; i++) ta.trainStep();
        ta.saveState(dir);
        for (int i = 0; i < 5; i++) ta.trainStep();
        DllmTrainer tb = new DllmTrainer(b, cfg, kind);
        assertTrue(tb.resume(dir));
        assertEquals(10, tb.step());
        for (int i = 0; i < 5; i++) tb.trainStep();
        var wa = a.weights();
        var wb = b.weights();
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), 0f, k);
    }
}
