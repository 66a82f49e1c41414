package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.policy.PolicyCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static dev.unmask.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** train and eval take an exported (ONNX) dLLM wherever they take a built-in checkpoint (docs/bring-your-own-dllm.md). */
class OnnxDllmCommandsTest {
    @Test
    void evalOnTheOnnxExportDecodesAsTheBuiltinModel(@TempDir Path dir) throws Exception {
        Path builtin = ShippedModelsTest.modelsDir().resolve("dllm-a"), onnx = dir.resolve("dllm-a-onnx");
        assertEquals(0, run("export", "--dllm", builtin.toString(), "--out", onnx.toString()).code());
        String[] eval = {"eval", "--tasks", "sudoku", "--block-lengths", "8,full", "--n", "8", "--policies", "topk:steps=32,threshold:tau=0.9"};
        CliTest.Run a = run(concat(eval, "--checkpoint", builtin.toString(), "--out", dir.resolve("a").toString()));
        CliTest.Run b = run(concat(eval, "--checkpoint", onnx.toString(), "--out", dir.resolve("b").toString()));
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        JsonNode rowsA = Json.MAPPER.readTree(dir.resolve("a/eval.json").toFile()), rowsB = Json.MAPPER.readTree(dir.resolve("b/eval.json").toFile());
        assertEquals(4, rowsB.size());
        for (int i = 0; i < rowsA.size(); i++) {
            assertTrue(rowsB.get(i).get("dllm").asText().startsWith("onnx"), rowsB.get(i).toString());
            for (String k : new String[]{"policy_params", "block_length", "accuracy", "mean_nfe"}) assertEquals(rowsA.get(i).get(k), rowsB.get(i).get(k), k);
        }
        Map<?, ?> inputs = (Map<?, ?>) Json.read(dir.resolve("b/manifest.json"), Map.class).get("inputs_sha256");
        assertEquals(Checksums.sha256(onnx.resolve(DllmOnnxExporter.MODEL)), inputs.get("dllm_weights:" + onnx.resolve(DllmOnnxExporter.MODEL)));
    }

    @Test
    void trainAgainstAnOnnxExport(@TempDir Path dir) {
        Path onnx = dir.resolve("onnx"), out = dir.resolve("run");
        assertEquals(0, run("export", "--dllm", CliTest.tinyCheckpoint(dir).toString(), "--out", onnx.toString()).code());
        CliTest.Run r = run("train", "--dllm", onnx.toString(), "--out", out.toString(), "--eval-n", "4", "--set", "task=sort",
                "--set", "genLength=32", "--set", "blockLength=8", "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("ONNX"), r.err());
        assertEquals(Checksums.sha256(onnx.resolve(DllmOnnxExporter.MODEL)), PolicyCheckpoint.provenance(out.resolve("policy")).orElseThrow().dllmSha256());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
