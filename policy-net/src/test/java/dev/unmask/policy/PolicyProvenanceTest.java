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
        PolicyModel net = JavaPolicyNet.initial(new PolicyConfig(List.of("confidence_logodds", "margin"), 32, 2, 64, 3));
        Path ck = dir.resolve("p");
        PolicyCheckpoint.save(ck, net, SAMPLE);
        assertEquals(Optional.of(SAMPLE), PolicyCheckpoint.provenance(ck));
        assertEquals(net.config(), JavaPolicyNet.load(ck).config());
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
        assertThrows(UnmaskException.class, () -> JavaPolicyNet.load(ck));
    }

    @Test
    void aCheckpointWithoutProvenanceLoadsAndIsWrittenAsBefore(@TempDir Path dir) throws Exception {
        PolicyModel net = JavaPolicyNet.initial(PolicyConfig.defaults(2));
        PolicyCheckpoint.save(dir.resolve("p"), net);
        assertEquals(Optional.empty(), PolicyCheckpoint.provenance(dir.resolve("p")));
        // the format of checkpoints saved before provenance existed: the config fields alone
        assertEquals(Json.write(net.config()) + "\n", Files.readString(dir.resolve("p").resolve(PolicyCheckpoint.CONFIG), StandardCharsets.UTF_8));
        assertEquals(net.config(), JavaPolicyNet.load(dir.resolve("p")).config());
    }

    static final PolicyProvenance KNOB = new PolicyProvenance("ab".repeat(32), "models/dllm-t4", "lag48", 128, 128,
            "correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt uniformly from [0.0, 12.0]", List.of(0.0, 12.0),
            List.of("confidence_logodds", "knob"), "grpo", 1, 40, null, null, null, null);

    @Test
    void aKnobPolicysRangeAndRewardAsTrainedRoundTripThroughTheCheckpoint(@TempDir Path dir) {
        Path ck = dir.resolve("p");
        PolicyCheckpoint.save(ck, JavaPolicyNet.initial(new PolicyConfig(List.of("confidence_logodds", "knob"), 32, 2, 64, 3)), KNOB);
        PolicyProvenance back = PolicyCheckpoint.provenance(ck).orElseThrow();
        assertEquals(KNOB, back);
        assertEquals(List.of(0.0, 12.0), back.knobRange());
        assertTrue(back.reward().contains("[0.0, 12.0]"), back.reward());
        assertNull(back.recoveredFrom(), "recorded at training: nothing filled in afterwards");
        assertTrue(back.knobOutsideRange(20) && back.knobOutsideRange(-0.5));
        assertFalse(back.knobOutsideRange(0) || back.knobOutsideRange(6) || back.knobOutsideRange(12));
        Map<?, ?> stored = (Map<?, ?>) Json.read(ck.resolve(PolicyCheckpoint.CONFIG), Map.class).get("provenance");
        assertEquals(List.of(0.0, 12.0), stored.get("knob_range"));
        // a policy that reads no knob keeps the file format it had
        assertFalse(Json.write(SAMPLE).contains("knob_range"), Json.write(SAMPLE));
    }

    /** Knob policies saved before the knob range was recorded: the range comes from the training config beside them. */
    @Test
    void aKnobPolicySavedBeforeTheRangeWasRecordedTakesItFromItsRunsConfig(@TempDir Path dir) throws Exception {
        PolicyProvenance old = new PolicyProvenance("ab".repeat(32), "models/dllm-t4", "lag48", 128, 128,
                "correct * ((L - min(nfe, L) + 1) / L) ^ 1.0", List.of("confidence_logodds", "knob"), "grpo", 1, 40, null, null);
        PolicyModel net = JavaPolicyNet.initial(new PolicyConfig(List.of("confidence_logodds", "knob"), 32, 2, 64, 3));
        Path run = dir.resolve("run"), ck = run.resolve("policy");
        PolicyCheckpoint.save(ck, net, old);
        Files.writeString(run.resolve("config.json"), "{\"features\": [\"confidence_logodds\", \"knob\"], \"knobRange\": [0.0, 12.0], \"rewardAlpha\": 1.0}");
        PolicyProvenance p = PolicyCheckpoint.provenance(ck).orElseThrow();
        assertEquals(List.of(0.0, 12.0), p.knobRange());
        assertEquals("correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt uniformly from [0.0, 12.0]", p.reward());
        assertTrue(p.recoveredFrom().contains("run/config.json"), p.recoveredFrom());

        // without the run's config the range is said to be unknown, not made up
        Path alone = dir.resolve("alone");
        PolicyCheckpoint.save(alone, net, old);
        PolicyProvenance q = PolicyCheckpoint.provenance(alone).orElseThrow();
        assertNull(q.knobRange());
        assertEquals(List.of("knob_range"), q.unrecovered());
        assertFalse(q.reward().contains("^ 1.0"), q.reward());
    }

    /** The committed knob policies (results/frontier, results/ablations) load with the range they were trained on. */
    @Test
    void committedKnobPoliciesTellTheirKnobRange() {
        Path root = repoRoot();
        assertEquals(List.of(0.0, 12.0), PolicyCheckpoint.provenance(root.resolve("results/frontier/attempt-lag48-knob2/policy")).orElseThrow().knobRange());
        assertEquals(List.of(0.0, 8.0), PolicyCheckpoint.provenance(root.resolve("results/ablations/knob-sudoku/policy-run/policy")).orElseThrow().knobRange());
        assertEquals(List.of(0.0, 4.0), PolicyCheckpoint.provenance(root.resolve("results/frontier/attempt-thr90/policy")).orElseThrow().knobRange());
    }

    @Test
    void aProvenanceFileFillsInACheckpointSavedWithoutOneAndCannotPassForAnothers(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("p"), other = dir.resolve("q");
        PolicyCheckpoint.save(ck, JavaPolicyNet.initial(PolicyConfig.defaults(2)));
        PolicyCheckpoint.save(other, JavaPolicyNet.initial(PolicyConfig.defaults(3)));
        String config = Files.readString(ck.resolve(PolicyCheckpoint.CONFIG)), checksums = Files.readString(ck.resolve("checksums.json"));
        PolicyCheckpoint.writeProvenanceFile(ck, SAMPLE);
        assertEquals(Optional.of(SAMPLE), PolicyCheckpoint.provenance(ck));
        assertEquals(config, Files.readString(ck.resolve(PolicyCheckpoint.CONFIG)), "the checkpoint's own files stay as they were");
        assertEquals(checksums, Files.readString(ck.resolve("checksums.json")));
        // copied beside other weights, it is refused
        Files.copy(ck.resolve(PolicyCheckpoint.PROVENANCE_FILE), other.resolve(PolicyCheckpoint.PROVENANCE_FILE));
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyCheckpoint.provenance(other));
        assertTrue(e.getMessage().contains("belongs to another policy"), e.getMessage());
        // a checkpoint that records its provenance itself takes no second one
        Path recorded = dir.resolve("r");
        PolicyCheckpoint.save(recorded, JavaPolicyNet.initial(PolicyConfig.defaults(2)), SAMPLE);
        assertThrows(UnmaskException.class, () -> PolicyCheckpoint.writeProvenanceFile(recorded, SAMPLE));
    }

    private static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("results/policies"))) return p;
        }
        throw new AssertionError("results/policies above " + Path.of("").toAbsolutePath());
    }

    /**
     * The committed policies predate provenance: they load as they are, their bytes are still those
     * their manifests list, and their provenance comes from the provenance.json filled in from their run folders.
     */
    @Test
    void committedPoliciesLoadUnchangedWithProvenanceFilledInBesideThem() throws Exception {
        Path policies = repoRoot().resolve("results/policies");
        List<Path> runs;
        try (var s = Files.list(policies)) {
            runs = s.filter(r -> Files.isDirectory(r.resolve("policy"))).sorted().toList();
        }
        assertFalse(runs.isEmpty());
        for (Path run : runs) {
            Path ck = run.resolve("policy");
            assertNotNull(JavaPolicyNet.load(ck), ck.toString());
            PolicyProvenance p = PolicyCheckpoint.provenance(ck).orElseThrow(() -> new AssertionError(ck + " exports with no provenance"));
            assertTrue(p.recoveredFrom().startsWith("filled in after training from the run folder " + run.getFileName()), p.recoveredFrom());
            assertEquals(List.of(), p.unrecovered(), ck.toString());
            assertFalse(((Map<?, ?>) Json.read(ck.resolve(PolicyCheckpoint.CONFIG), Map.class)).containsKey("provenance"), "the config stays as its run wrote it");
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
        Map<String, String> knobMeta = KNOB.toMetadata("x.");
        assertEquals("0.0,12.0", knobMeta.get("x.knob_range"));
        assertEquals(KNOB, PolicyProvenance.fromMetadata(knobMeta, "x.", "test"));
        PolicyProvenance recovered = KNOB.withUnrecovered(List.of(), KNOB.reward(), "somewhere");
        assertEquals(recovered, PolicyProvenance.fromMetadata(recovered.toMetadata("x."), "x.", "test"), "an empty unrecovered list reads back empty");
        UnmaskException e = assertThrows(UnmaskException.class, () -> PolicyProvenance.fromMetadata(Map.of("x.seed", "seven"), "x.", "file.onnx"));
        assertTrue(e.getMessage().startsWith("file.onnx: unreadable provenance metadata"), e.getMessage());
    }
}
