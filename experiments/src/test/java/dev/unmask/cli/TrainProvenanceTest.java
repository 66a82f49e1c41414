package dev.unmask.cli;

import dev.unmask.env.io.Checksums;
import dev.unmask.dllm.DllmCheckpoint;
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
        assertNull(p.knobRange(), "a policy that reads no knob has no knob range");
        assertEquals("policy: " + out.resolve("policy") + "  (use as --policies learned:path=" + out.resolve("policy") + ")",
                r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    /**
     * A knob policy records the reward as trained (alpha drawn from the knob range) and its valid
     * knob range, and train's closing hint gives a --policies spec with a knob that eval then runs.
     */
    @Test
    void aKnobPolicyRecordsItsRangeAndItsHintedCommandRuns(@TempDir Path dir) {
        Path ck = CliTest.tinyCheckpoint(dir), out = dir.resolve("run");
        CliTest.Run r = run("train", "--dllm", ck.toString(), "--out", out.toString(), "--eval-n", "0", "--set", "task=sort",
                "--set", "genLength=32", "--set", "blockLength=8", "--set", "promptsPerIteration=2", "--set", "groupSize=2",
                "--set", "iterations=1", "--set", "features=[confidence_logodds, knob]", "--set", "knobRange=[0, 12]");
        assertEquals(0, r.code(), r.err());
        PolicyProvenance p = PolicyCheckpoint.provenance(out.resolve("policy")).orElseThrow();
        assertEquals(List.of(0.0, 12.0), p.knobRange());
        assertEquals("correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt uniformly from [0.0, 12.0]", p.reward());
        assertNull(p.recoveredFrom());

        String hint = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        java.util.regex.Matcher spec = java.util.regex.Pattern.compile("--policies (\\S+?);").matcher(hint);
        assertTrue(spec.find(), hint);
        assertTrue(spec.group(1).endsWith(",knob=6.0"), hint);
        assertTrue(hint.contains("[0.0, 12.0]"), hint);
        // the hinted spec is one eval takes
        CliTest.Run eval = run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--gen-length", "32", "--block-lengths", "8",
                "--policies", spec.group(1), "--n", "2", "--out", dir.resolve("eval").toString());
        assertEquals(0, eval.code(), eval.err());
        assertFalse(eval.err().contains("outside"), eval.err());

        // outside the trained range: evaluated all the same, with one warning line for the whole grid
        String policy = out.resolve("policy").toString();
        CliTest.Run outside = run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--gen-length", "32", "--block-lengths", "8,full",
                "--policies", "learned:path=" + policy + ",knob=20", "--n", "2", "--out", dir.resolve("eval20").toString());
        assertEquals(0, outside.code(), outside.err());
        List<String> warnings = outside.err().lines().filter(l -> l.contains("knob=20.0 lies outside [0.0, 12.0]")).toList();
        assertEquals(1, warnings.size(), outside.err());
        assertTrue(warnings.get(0).startsWith("warning: ") && warnings.get(0).contains(policy), warnings.get(0));
    }
}
