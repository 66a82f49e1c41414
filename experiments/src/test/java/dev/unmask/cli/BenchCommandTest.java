package dev.unmask.cli;

import dev.unmask.dllm.DllmConfig;
import dev.unmask.runs.bench.Flops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BenchCommandTest {
    @Test
    void flopCountFollowsTheArchitectureFlags() {
        int vocab = 40, batch = 8, len = 80, d = 64, layers = 2, maxLength = 96;
        double n = batch * len;
        DllmConfig plain = new DllmConfig(d, layers, 4, 256, maxLength, 1);
        DllmConfig rotary = new DllmConfig(d, layers, 4, 256, maxLength, 1, true, false, false);
        DllmConfig rotaryOnly = new DllmConfig(d, layers, 4, 256, maxLength, 1, true, false, true);
        // rotate-half of queries and keys: two [n, d] x [d, d] products per layer
        assertEquals(layers * 2 * 2 * n * d * d, Flops.forwardFlops(rotary, vocab, batch, len) - Flops.forwardFlops(plain, vocab, batch, len), 1e-3);
        // no position table: its one-hot product is gone
        assertEquals(2 * n * maxLength * d, Flops.forwardFlops(rotary, vocab, batch, len) - Flops.forwardFlops(rotaryOnly, vocab, batch, len), 1e-3);
    }

    @Test
    void aTrainStepCountsThreeForwardsWithoutTheProductsTheFastTrainerSkips() {
        int vocab = 24, batch = 48, len = 53, maxLength = 96;
        DllmConfig rotary = new DllmConfig(64, 2, 4, 256, maxLength, 1, true, false, false);
        double n = batch * len;
        double skipped = 2 * 2 * 2 * n * 64 * 64 + 2 * n * (vocab + maxLength) * 64; // rotate-half per layer, one-hot embeddings
        assertEquals(3 * (Flops.forwardFlops(rotary, vocab, batch, len) - skipped), Flops.trainStepFlops(rotary, vocab, batch, len), 1e-3);
    }

    /** The tiny twin of models/foreign-llada-shape (scripts/make-foreign-dllm.py, vocab 64) kept as a test resource of module dllm. */
    static Path foreignTiny() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("dllm/src/test/resources/foreign-tiny");
            if (Files.isDirectory(d)) return d;
        }
        throw new AssertionError("no dllm/src/test/resources/foreign-tiny above " + Path.of("").toAbsolutePath());
    }

    @Test
    void aForeignDllmBenchPrintsOneRowPerBatchWithFiveValuesPerQueriedPositionIntoJava() {
        CliTest.Run r = CliTest.run("bench", "--foreign-dllm", foreignTiny().toString(), "--foreign-batches", "1,3", "--foreign-buffer", "30",
                "--foreign-reps", "1", "--foreign-task", "arith");
        assertEquals(0, r.code(), r.err());
        List<String> rows = r.out().lines().filter(l -> l.matches("\\| [0-9]+ \\|.*")).toList();
        assertEquals(2, rows.size(), r.out());
        for (String row : rows) {
            String[] c = row.split("\\|");
            int batch = Integer.parseInt(c[1].strip()), queried = Integer.parseInt(c[3].strip().replace(",", ""));
            assertEquals(30 * batch, queried, row);
            assertEquals("1", c[4].strip(), "one ORT call: " + row);
            assertEquals(5L * queried, Long.parseLong(c[13].strip().replace(",", "")), "values into Java: " + row);
            assertEquals(64L * queried, Long.parseLong(c[14].strip().replace(",", "")), "vocab x queried: " + row);
        }
        assertTrue(r.out().contains("statistics in ONNX Runtime"), r.out());
    }

    @Test
    void aForeignDllmBenchRefusesABuiltinCheckpointAndOtherModesInOneLine(@TempDir Path dir) {
        CliTest.Run r = CliTest.run("bench", "--foreign-dllm", CliTest.tinyCheckpoint(dir).toString(), "--foreign-reps", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().strip().endsWith("holds no descriptor.json (a built-in checkpoint?); give an ONNX export folder or its descriptor.json"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = CliTest.run("bench", "--foreign-dllm", foreignTiny().toString(), "--train");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--foreign-dllm measures a dLLM of its own"), r.err());
    }
}
