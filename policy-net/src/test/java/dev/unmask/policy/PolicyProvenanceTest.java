package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class PolicyProvenanceTest {
    static final PolicyProvenance SAMPLE = new PolicyProvenance("ab".repeat(32), "models/dllm-a", "sudoku", 32, 8,
            "correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))", List.of("confidence_logodds", "margin"), "grpo", 7, 60,
            "0123456789abcdef0123456789abcdef01234567", false);

    @Test
    void provenanceRoundTripsThroughTheCheckpointUnderItsChecksums(@TempDir Path dir) throws Exception {
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence_logodds", "margin"), 32, 2, 64, 3));
        Path ck = dir.resolve("p");
        PolicyCheckpoint.save(ck, net, SAMPLE);
        assertEquals(Optional.of(SAMPLE), PolicyCheckpoint.provenance(ck));
        assertEquals(net.config(), PolicyCheckpoint.load(ck).config());
        Map<?, ?> config = Json.read(ck.resolve(PolicyCheckpoint.CONFIG), Map.class);
        Map<?, ?> stored = (Map<?, ?>) config.get("provenance");
        assertEquals("ab".repeat(32), stored.get("dllm_sha256"));
        assertEquals(8, stored.get("block_length"));
        assertEquals(60, stored.get("iterations"));

        // the provenance is vouched for by checksums.json like the rest of the config
        Path file = ck.resolve(PolicyCheckpoint.CONFIG);
        Files.writeString(file, Files.readString(file).replace("\"sudoku\"", "\"arith\""));
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyCheckpoint.provenance(ck));
        assertTrue(e.getMessage().contains("fails its SHA-256 check"), e.getMessage());
        assertThrows(UnmaskException.class, () -> PolicyCheckpoint.load(ck));
    }

    @Test
    void aCheckpointWithoutProvenanceLoadsAndIsWrittenAsBefore(@TempDir Path dir) throws Exception {
        PolicyNet net = new PolicyNet(PolicyConfig.defaults(2));
        PolicyCheckpoint.save(dir.resolve("p"), net);
        assertEquals(Optional.empty(), PolicyCheckpoint.provenance(dir.resolve("p")));
        // the format of checkpoints saved before provenance existed: the config fields alone
        assertEquals(Json.write(net.config()) + "\n", Files.readString(dir.resolve("p").resolve(PolicyCheckpoint.CONFIG), StandardCharsets.UTF_8));
        assertEquals(net.config(), PolicyCheckpoint.load(dir.resolve("p")).config());
    }

    /** The committed policies predate provenance: they load as they are, and their bytes are still those their manifests list. */
    @Test
    void committedPoliciesWithoutProvenanceStillLoad() throws Exception {
        Path policies = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && policies == null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("results/policies"))) policies = p.resolve("results/policies");
        }
        assertNotNull(policies, "results/policies above " + Path.of("").toAbsolutePath());
        List<Path> runs;
        try (var s = Files.list(policies)) {
            runs = s.filter(r -> Files.isDirectory(r.resolve("policy"))).sorted().toList();
        }
        assertFalse(runs.isEmpty());
        for (Path run : runs) {
            Path ck = run.resolve("policy");
            assertNotNull(PolicyCheckpoint.load(ck), ck.toString());
            assertEquals(Optional.empty(), PolicyCheckpoint.provenance(ck), ck.toString());
            Map<?, ?> outputs = (Map<?, ?>) Json.read(run.resolve("manifest.json"), Map.class).get("outputs_sha256");
            for (String f : List.of(PolicyCheckpoint.CONFIG, PolicyCheckpoint.WEIGHTS)) {
                assertEquals(outputs.get("policy/" + f), Checksums.sha256(ck.resolve(f)), run + ": " + f + " unchanged since its run");
            }
        }
    }

    @Test
    void metadataFormIsOneStringPerFieldAndReadsBack() {
        Map<String, String> meta = SAMPLE.toMetadata("x.");
        assertEquals(List.of("x.dllm_sha256", "x.dllm_path", "x.task", "x.gen_length", "x.block_length", "x.reward", "x.features",
                "x.algorithm", "x.seed", "x.iterations", "x.git_commit", "x.git_dirty"), List.copyOf(meta.keySet()));
        assertEquals("confidence_logodds,margin", meta.get("x.features"));
        assertEquals("8", meta.get("x.block_length"));
        assertEquals(SAMPLE, PolicyProvenance.fromMetadata(meta, "x.", "test"));
        assertNull(PolicyProvenance.fromMetadata(Map.of("format", "v1"), "x.", "test"), "no provenance entries: none");
        PolicyProvenance outsideGit = new PolicyProvenance("cd".repeat(32), "d", "arith", 64, 64, "r", List.of("confidence"), "ppo", 1, 3, null, null);
        assertFalse(outsideGit.toMetadata("x.").containsKey("x.git_commit"), "unknown fields are left out");
        assertEquals(outsideGit, PolicyProvenance.fromMetadata(outsideGit.toMetadata("x."), "x.", "test"));
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyProvenance.fromMetadata(Map.of("x.seed", "seven"), "x.", "file.onnx"));
        assertTrue(e.getMessage().startsWith("file.onnx: unreadable provenance metadata"), e.getMessage());
    }
}
