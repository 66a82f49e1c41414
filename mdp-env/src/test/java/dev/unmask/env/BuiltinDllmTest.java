package dev.unmask.env;

import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.model.*;
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
        dev.unmask.env.io.CheckpointFiles.write(ck2, files);
        e = assertThrows(UnmaskException.class, () -> DllmCheckpoint.load(ck2));
        assertTrue(e.getMessage().matches(".*tensor \\S+ has shape \\[.*\\] but the config expects \\[.*"), e.getMessage());

        e = assertThrows(UnmaskException.class, () -> DllmCheckpoint.load(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void trainingLowersTheLossAndResumesExactly(@TempDir Path dir) {
        DllmTrainConfig cfg = new DllmTrainConfig(List.of("sort"), 40, 8, 3e-3, 5, 1.0, 9, 10, 0.0);
        BuiltinDllm m = tiny(1);
        DllmTrainer t = new DllmTrainer(m, cfg);
        double first = 0, last = 0;
        for (int i = 0; i < 40; i++) {
            double loss = t.trainStep().loss();
            if (i < 5) first += loss / 5;
            if (i >= 35) last += loss / 5;
        }
        assertTrue(last < first * 0.8, "loss " + first + " -> " + last);

        // resume: 10 steps, save, 5 more == 15 straight
        BuiltinDllm a = tiny(1), b = tiny(1);
        DllmTrainer ta = new DllmTrainer(a, cfg);
        for (int i = 0; i < 10; i++) ta.trainStep();
        ta.saveState(dir);
        for (int i = 0; i < 5; i++) ta.trainStep();
        DllmTrainer tb = new DllmTrainer(b, cfg);
        assertTrue(tb.resume(dir));
        assertEquals(10, tb.step());
        for (int i = 0; i < 5; i++) tb.trainStep();
        var wa = a.weights();
        var wb = b.weights();
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), 0f, k);
    }
}
