package dev.unmask.cli;

import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.export.SafetensorsExporter;
import dev.unmask.policy.onnx.PolicySampler;
import dev.unmask.policy.onnx.OnnxPolicyModel;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.runs.RecoveredProvenance;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.env.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.unmask.cli.CliTest.assertOneLineError;
import static dev.unmask.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

class ExportCommandTest {
    // run(...) and assertOneLineError(...) are CliTest's (same package)
    @Test
    void exportsPolicyAndDllmAndRejectsBadInputInOneLine(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy");
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(1)));
        Path onnx = dir.resolve("p.onnx");
        CliTest.Run r = run("export", "--policy", policy.toString(), "--format", "onnx", "--out", onnx.toString(), "--max-positions", "128");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().endsWith("}" + System.lineSeparator()), "the report ends with a newline: " + r.out());
        Map<?, ?> report = Json.MAPPER.readValue(r.out(), Map.class);
        assertTrue(((Number) report.get("check_max_abs_diff_probability")).doubleValue() <= 1e-5, r.out());
        assertTrue(Files.isRegularFile(dir.resolve("p.onnx.sha256")));
        try (PolicySampler s = PolicySampler.greedy(onnx)) {
            assertTrue(s.select(new float[]{0.9f, Float.NaN, 0.2f}, null).length >= 1);
        }

        r = run("export", "--policy", policy.toString(), "--format", "safetensors", "--out", dir.resolve("st").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(dir.resolve("st/policy-spec.json")));
        assertTrue(Files.isRegularFile(dir.resolve("st/checksums.json")));

        Path ck = dir.resolve("dllm");
        DllmCheckpoint.save(ck, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, 1), Vocabulary.builtin()));
        r = run("export", "--dllm", ck.toString(), "--out", dir.resolve("dllm-onnx").toString());
        assertEquals(0, r.code(), r.err());
        try (OnnxDenoiser d = OnnxDenoiser.load(dir.resolve("dllm-onnx/descriptor.json"))) {
            assertEquals(Vocabulary.builtin(), d.vocabulary());
        }

        assertOneLineError(run("export", "--out", dir.resolve("x").toString()), "exactly one of --policy or --dllm");
        assertOneLineError(run("export", "--policy", policy.toString(), "--format", "tflite", "--out", dir.resolve("x").toString()), "unknown --format 'tflite'");
        assertOneLineError(run("export", "--policy", dir.resolve("missing").toString(), "--out", dir.resolve("x").toString()), "does not exist");
        assertOneLineError(run("export", "--policy", policy.toString(), "--out", onnx.toString()), "already exists; pass --force");
        assertOneLineError(run("export", "--dllm", ck.toString(), "--format", "safetensors", "--out", dir.resolve("y").toString()), "ONNX only");
        assertFalse(Files.exists(dir.resolve("x")), "nothing written on bad input");
    }

    @Test
    void exportPrintsTheProvenanceItWrites(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy");
        PolicyProvenance provenance = new PolicyProvenance("12".repeat(32), "models/dllm-a", "sudoku", 32, 8,
                "correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))", List.of("confidence"), "grpo", 3, 20, "ab".repeat(20), false);
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(1)), provenance);
        for (String format : List.of("onnx", "safetensors")) {
            Path out = dir.resolve(format.equals("onnx") ? "p.onnx" : "st");
            CliTest.Run r = run("export", "--policy", policy.toString(), "--format", format, "--out", out.toString(), "--max-positions", "64");
            assertEquals(0, r.code(), r.err());
            // one line per key, under "provenance"
            for (String line : List.of("\"dllm_sha256\" : \"" + "12".repeat(32) + "\"", "\"dllm_path\" : \"models/dllm-a\"", "\"task\" : \"sudoku\"",
                    "\"gen_length\" : 32", "\"block_length\" : 8", "\"reward\" : \"" + provenance.reward() + "\"", "\"features\" : [ \"confidence\" ]",
                    "\"algorithm\" : \"grpo\"", "\"seed\" : 3", "\"iterations\" : 20", "\"git_commit\" : \"" + "ab".repeat(20) + "\"", "\"git_dirty\" : false")) {
                assertTrue(r.out().lines().anyMatch(l -> l.strip().replaceAll(",$", "").equals(line)), format + ": no line " + line + " in\n" + r.out());
            }
            Map<?, ?> printed = (Map<?, ?>) Json.MAPPER.readValue(r.out(), Map.class).get("provenance");
            assertEquals(provenance, Json.MAPPER.convertValue(printed, PolicyProvenance.class), format);
            assertFalse(r.err().contains("records no provenance"), r.err());
        }
        try (OnnxPolicyModel onnx = OnnxPolicyModel.load(dir.resolve("p.onnx"))) {
            assertEquals(Optional.of(provenance), onnx.provenance());
        }
        byte[] st = Files.readAllBytes(dir.resolve("st").resolve(SafetensorsExporter.WEIGHTS));
        assertEquals(provenance, PolicyProvenance.fromMetadata(Safetensors.metadata(st, "st"), SafetensorsExporter.META_PROVENANCE, "st"));

        // a checkpoint from before provenance: exported all the same, with a note instead
        Path old = dir.resolve("old");
        PolicyCheckpoint.save(old, new PolicyNet(PolicyConfig.defaults(1)));
        CliTest.Run r = run("export", "--policy", old.toString(), "--out", dir.resolve("old.onnx").toString(), "--max-positions", "64");
        assertEquals(0, r.code(), r.err());
        assertFalse(Json.MAPPER.readValue(r.out(), Map.class).containsKey("provenance"), r.out());
        assertTrue(r.err().contains("records no provenance"), r.err());
    }

    /**
     * Every shipped policy exports with its provenance: the Sudoku policies under results/policies
     * (trained before provenance was recorded) with what their run folders record, filled in beside
     * them, and the committed knob policies with the knob range of their training config.
     */
    @Test
    void everyCommittedPolicyExportsWithItsProvenance(@TempDir Path dir) throws Exception {
        Path root = ReferenceRunConfigsTest.repoRoot();
        List<Path> runs;
        try (var s = Files.list(root.resolve("results/policies"))) {
            runs = s.filter(p -> Files.isDirectory(p.resolve("policy"))).sorted().toList();
        }
        assertEquals(6, runs.size(), runs.toString());
        for (Path run : runs) {
            Path out = dir.resolve(run.getFileName().toString());
            CliTest.Run r = run("export", "--policy", run.resolve("policy").toString(), "--format", "safetensors", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertFalse(r.err().contains("records no provenance"), run + ": " + r.err());
            PolicyProvenance printed = Json.MAPPER.convertValue(Json.MAPPER.readValue(r.out(), Map.class).get("provenance"), PolicyProvenance.class);
            // exactly what the run folder records, nothing more
            assertEquals(RecoveredProvenance.fromRunFolder(run), printed, run.toString());
            assertEquals("af8c63709bee9b26f67d3a264920c7ef277e295a8038dbca43f1e72e60d4a336", printed.dllmSha256(), "models/dllm-a");
            assertEquals(List.of(), printed.unrecovered(), run.toString());
            assertEquals(run.getFileName().toString().contains("shuffled"), printed.reward().endsWith("(control run)"), printed.reward());
        }
        Path knob = root.resolve("results/frontier/attempt-lag48-knob2/policy");
        CliTest.Run r = run("export", "--policy", knob.toString(), "--out", dir.resolve("knob.onnx").toString(), "--max-positions", "256");
        assertEquals(0, r.code(), r.err());
        try (OnnxPolicyModel onnx = OnnxPolicyModel.load(dir.resolve("knob.onnx"))) {
            PolicyProvenance p = onnx.provenance().orElseThrow();
            assertEquals(List.of(0.0, 12.0), p.knobRange());
            assertTrue(p.reward().endsWith("drawn per prompt uniformly from [0.0, 12.0]"), p.reward());
        }
    }

    /** What an engine needs travels with the export: the dLLM's ids from --for-dllm, and real decoding windows with ONNX Runtime's answers. */
    @Test
    void anExportCarriesTheDllmsIdsAndTestVectorsFromRealDecoding(@TempDir Path dir) throws Exception {
        Path root = ReferenceRunConfigsTest.repoRoot();
        Path policy = root.resolve("results/policies/grpo-sudoku-full-logodds/policy");
        Path out = dir.resolve("st");
        CliTest.Run r = run("export", "--policy", policy.toString(), "--format", "safetensors", "--out", out.toString(),
                "--for-dllm", root.resolve("models/dllm-a").toString(), "--test-vectors", "6");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> report = Json.MAPPER.readValue(r.out(), Map.class);
        assertEquals(Map.of("features", "confidence_logodds", "dllm.mask_id", "1", "dllm.eos_id", "2", "dllm.vocab_size", "24",
                "trained_block_length", "32", "trained_gen_length", "32"), report.get("contract"));
        Map<?, ?> spec = Json.MAPPER.readValue(out.resolve(SafetensorsExporter.SPEC).toFile(), Map.class);
        assertEquals(Map.of("mask_id", 1, "eos_id", 2, "vocab_size", 24), spec.get("dllm"));

        Path vectors = out.resolve("test-vectors.safetensors");
        Map<String, Safetensors.Tensor> t = Safetensors.read(vectors);
        long windows = t.get("features").shape()[0];
        assertTrue(windows >= 6, "at least one window per prompt: " + windows);
        assertArrayEquals(new long[]{windows, 32, 1}, t.get("features").shape());
        assertArrayEquals(new long[]{windows, 32}, t.get("unmask_prob").shape());
        assertEquals(Checksums.sha256(vectors) + "  test-vectors.safetensors\n", Files.readString(out.resolve("test-vectors.safetensors.sha256")));
        // ONNX Runtime's probabilities are 0 off the eligible positions and sigmoid(logit) on them
        float[] p = t.get("unmask_prob").data(), logit = t.get("logits").data(), elig = t.get("eligible").data();
        for (int i = 0; i < p.length; i++) {
            if (elig[i] == 0f) assertEquals(0f, p[i]);
            else assertEquals(1 / (1 + Math.exp(-logit[i])), p[i], 1e-6);
        }

        // another dLLM than the one it was trained on: exported with that dLLM's ids, and a warning
        r = run("export", "--policy", policy.toString(), "--format", "onnx", "--out", dir.resolve("t7.onnx").toString(),
                "--for-dllm", root.resolve("models/dllm-t7").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("trained on another dLLM"), r.err());
        try (OnnxPolicyModel onnx = OnnxPolicyModel.load(dir.resolve("t7.onnx"))) {
            assertEquals(32, onnx.contract().vocabSize());
        }
        // test vectors need to know the task: a checkpoint without provenance is refused in one line
        Path bare = dir.resolve("bare");
        PolicyCheckpoint.save(bare, new PolicyNet(PolicyConfig.defaults(1)));
        assertOneLineError(run("export", "--policy", bare.toString(), "--format", "safetensors", "--out", dir.resolve("b").toString(),
                "--test-vectors", "3"), "--test-vectors needs the policy's task");
    }
}
