package dev.unmask.runs;

import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.UnmaskException;
import dev.unmask.policy.JavaPolicyNet;
import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PoliciesTest {
    @Test
    void aKnobConditionedPolicyNeedsAKnobAndAPlainOneRefusesIt(@TempDir Path dir) {
        Path knobbed = dir.resolve("knobbed"), plain = dir.resolve("plain");
        PolicyCheckpoint.save(knobbed, new PolicyNet(new PolicyConfig(List.of("confidence", "knob"), 32, 2, 64, 1)));
        PolicyCheckpoint.save(plain, new PolicyNet(PolicyConfig.defaults(1)));
        LearnedPolicy p = (LearnedPolicy) Policies.parse("learned:path=" + knobbed + ",knob=1.5");
        assertEquals(1.5, p.params().get("knob"));
        assertTrue(p.label().contains("knob=1.5"), p.label());
        assertTrue(assertThrows(UnmaskException.class, () -> Policies.parse("learned:path=" + knobbed)).getMessage().contains("is conditioned on a knob"));
        assertTrue(assertThrows(UnmaskException.class, () -> Policies.parse("learned:path=" + plain + ",knob=1")).getMessage().contains("reads no knob"));
        assertTrue(assertThrows(UnmaskException.class, () -> Policies.parse("learned:path=" + knobbed + ",knob=fast")).getMessage().contains("knob must be a number"));
        // a sweep over the knob is a grid like any other parameter
        assertEquals(List.of("learned:path=P,knob=0", "learned:path=P,knob=2"), PolicyGrid.expand(List.of("learned:path=P,knob=0|2"), 32));
    }

    @Test
    void aKnobOutsideTheTrainedRangeIsNamedInOneWarning(@TempDir Path dir) {
        Path knobbed = dir.resolve("knobbed"), unknown = dir.resolve("unknown");
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence", "knob"), 32, 2, 64, 1));
        PolicyCheckpoint.save(knobbed, net, new PolicyProvenance("ab".repeat(32), "d", "sudoku", 32, 32, "r", List.of(0.0, 4.0),
                List.of("confidence", "knob"), "grpo", 1, 1, null, null, null, null));
        PolicyCheckpoint.save(unknown, net);
        assertEquals(java.util.Optional.empty(), Policies.knobOutsideRange(knobbed, 4.0));
        assertEquals(java.util.Optional.empty(), Policies.knobOutsideRange(knobbed, 0.0));
        String w = Policies.knobOutsideRange(knobbed, 20).orElseThrow();
        assertTrue(w.startsWith("warning: knob=20.0 lies outside [0.0, 4.0]") && w.contains(knobbed.toString()) && !w.contains("\n"), w);
        assertEquals(java.util.Optional.empty(), Policies.knobOutsideRange(unknown, 20), "no recorded range: nothing to warn about");
    }

    @Test
    void runtimeJavaRunsThePlainJavaNetworkAndSaysSoInTheLabel(@TempDir Path dir) {
        Path ck = dir.resolve("p");
        PolicyCheckpoint.save(ck, new PolicyNet(PolicyConfig.defaults(4)));
        LearnedPolicy graph = (LearnedPolicy) Policies.parse("learned:path=" + ck);
        LearnedPolicy java = (LearnedPolicy) Policies.parse("learned:path=" + ck + ",runtime=java");
        assertInstanceOf(PolicyNet.class, graph.net());
        assertInstanceOf(JavaPolicyNet.class, java.net());
        assertFalse(graph.label().contains("runtime"), "the default keeps the labels of committed rows: " + graph.label());
        assertTrue(java.label().contains("runtime=java"), java.label());
        assertSame(PolicyNet.class, ((LearnedPolicy) Policies.parse("learned:path=" + ck + ",runtime=samediff")).net().getClass());
        String e = assertThrows(UnmaskException.class, () -> Policies.parse("learned:path=" + ck + ",runtime=onnx")).getMessage();
        assertTrue(e.startsWith("learned policy runtime must be samediff") && !e.contains("\n"), e);
    }
}
