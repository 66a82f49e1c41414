package dev.unmask.cli;

import dev.unmask.env.io.Checksums;
import dev.unmask.env.model.DllmCheckpoint;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyProvenance;
import dev.unmask.runs.RunManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.unmask.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code unmask train} stores in the policy checkpoint what the policy was trained against and how. */
class TrainProvenanceTest {
    @Test
    void trainRecordsWhereThePolicyCameFrom(@TempDir Path dir) {
        Path ck = CliTest.tinyCheckpoint(dir), out = dir.resolve("run");
        CliTest.Run r = run("train", "--dllm", ck.toString(), "--out", out.toString(), "--eval-n", "0", "--set", "task=sort",
                "--set", "genLength=32", "--set", "blockLength=8", "--set", "promptsPerIteration=2", "--set", "groupSize=2",
                "--set", "iterations=2", "--set", "seed=5", "--set", "speedWeight=0.25", "--set", "features=[confidence_logodds]",
                "--set", "shuffleRewards=true");
        assertEquals(0, r.code(), r.err());
        PolicyProvenance p = PolicyCheckpoint.provenance(out.resolve("policy")).orElseThrow();
        assertEquals(Checksums.sha256(ck.resolve(DllmCheckpoint.WEIGHTS)), p.dllmSha256());
        assertEquals(ck.toString(), p.dllmPath());
        assertEquals("sort", p.task());
        assertEquals(32, p.genLength());
        assertEquals(8, p.blockLength());
        assertEquals("correct * (1 - 0.25 * (nfe - 1) / max(1, L - 1)), shuffled across the batch (control run)", p.reward());
        assertEquals(List.of("confidence_logodds"), p.features());
        assertEquals("grpo", p.algorithm());
        assertEquals(5, p.seed());
        assertEquals(2, p.iterations());
        assertEquals(RunManifest.codeVersion().get("git_commit"), p.gitCommit());
        assertNotNull(p.gitCommit(), "the tests run inside the project's git checkout");
    }
}
