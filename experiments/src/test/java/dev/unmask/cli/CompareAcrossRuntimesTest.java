package dev.unmask.cli;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.graph.PolicyNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.unmask.cli.CliTest.*;
import static org.junit.jupiter.api.Assertions.*;

class CompareAcrossRuntimesTest {
    @Test
    void aLearnedPolicyOnThePlainJavaNetworkMatchesTheGraphsRowsAndADoctoredRowFails(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), policy = dir.resolve("policy"), graph = dir.resolve("graph"), java = dir.resolve("java");
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(2)));
        String learned = "learned:path=" + policy;
        Run a = run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "6", "--block-lengths", "full",
                "--policies", "threshold:tau=0.9," + learned + "," + learned + ",mode=sample", "--out", graph.toString());
        assertEquals(0, a.code(), a.err());
        Run b = run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "6", "--block-lengths", "full",
                "--policies", learned + ",runtime=java," + learned + ",mode=sample,runtime=java", "--out", java.toString());
        assertEquals(0, b.code(), b.err());

        Run plain = run("compare", graph.toString(), java.toString());
        assertEquals(1, plain.code(), "without the option the labels differ: " + plain.out());
        Run across = run("compare", "--across-runtimes", graph.toString(), java.toString());
        assertEquals(0, across.code(), across.out());
        assertTrue(across.out().contains("compare: 2 identical, 0 different"), across.out());

        // one of B's rows moved by one fallback step: named, exit 1
        EvalRow[] rows = Json.read(java.resolve("eval.json"), EvalRow[].class);
        String text = Files.readString(java.resolve("eval.json"));
        Files.writeString(java.resolve("eval.json"), text.replaceFirst("\"fallback_steps\" : " + rows[0].fallbackSteps() + ",",
                "\"fallback_steps\" : " + (rows[0].fallbackSteps() + 1) + ","));
        Run doctored = run("compare", "--across-runtimes", graph.toString(), java.toString());
        assertEquals(1, doctored.code(), doctored.out());
        assertTrue(doctored.out().contains("DIFFERENT fallback steps") && doctored.out().contains("compare: 1 identical, 1 different"), doctored.out());
    }
}
