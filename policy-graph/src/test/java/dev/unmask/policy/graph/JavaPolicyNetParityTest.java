package dev.unmask.policy.graph;

import dev.unmask.env.io.Safetensors;
import dev.unmask.policy.JavaPolicyNet;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyModel;
import dev.unmask.policy.PolicyWindow;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The plain-Java network computes what the SameDiff graph computes, from the same weights. */
class JavaPolicyNetParityTest {
    /** Surefire runs in the module folder; the committed results are one level up. */
    private static final Path HOME = Path.of("..").toAbsolutePath().normalize();

    @Test
    void aFreshJavaNetworkStartsFromTheGraphsInitialWeightsBitForBit() {
        for (PolicyConfig c : List.of(PolicyConfig.defaults(7), new PolicyConfig(List.of("confidence_logodds", "mask_bit", "knob"), 32, 2, 64, 3))) {
            Map<String, Safetensors.Tensor> graph = new PolicyNet(c).weights(), java = JavaPolicyNet.initial(c).weights();
            assertEquals(graph.keySet(), java.keySet());
            graph.forEach((name, t) -> {
                assertArrayEquals(t.shape(), java.get(name).shape(), name);
                assertArrayEquals(t.data(), java.get(name).data(), 0f, name);
            });
        }
    }

    /** Random features; a block window masks its ineligible keys, a whole-buffer one none. */
    private static PolicyWindow window(int rows, int width, int f, boolean wholeBuffer, SplittableRandom r) {
        float[] feats = new float[rows * width * f], bias = new float[rows * width];
        boolean[][] eligible = new boolean[rows][width];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < width; j++) {
                eligible[b][j] = j == b % width || r.nextDouble() < 0.6;
                if (!eligible[b][j] && !wholeBuffer) bias[b * width + j] = -1e9f;
                for (int k = 0; k < f; k++) feats[(b * width + j) * f + k] = (float) (r.nextGaussian() * 2);
            }
        }
        return new PolicyWindow(feats, bias, eligible, new int[rows], rows, width);
    }

    private static void assertSameOutputs(PolicyModel graph, PolicyModel java, PolicyWindow w, double tolerance) {
        PolicyModel.Output a = graph.forward(w, true), b = java.forward(w, true);
        for (int r = 0; r < w.rows(); r++) {
            assertEquals(a.values()[r], b.values()[r], tolerance * (1 + Math.abs(a.values()[r])), "value of row " + r);
            for (int j = 0; j < w.width(); j++) {
                if (!w.eligible()[r][j]) {
                    assertEquals(Float.NEGATIVE_INFINITY, b.logits()[r][j]);
                    continue;
                }
                assertEquals(a.logits()[r][j], b.logits()[r][j], tolerance * (1 + Math.abs(a.logits()[r][j])), "logit " + r + "," + j);
            }
        }
    }

    @Test
    void logitsAndValuesAgreeWithTheGraphToFloatRoundingOnACommittedPolicy() {
        // the ducci knob policy: 5 features, whole buffer of 128, trained weights (not the tidy initial ones)
        Path dir = HOME.resolve("results/frontier/attempt-ducci-t7-knob/policy");
        PolicyNet graph = PolicyNet.load(dir);
        JavaPolicyNet java = JavaPolicyNet.load(dir);
        assertEquals(graph.config(), java.config());
        SplittableRandom r = new SplittableRandom(11);
        int f = graph.config().parsedFeatures().size();
        assertSameOutputs(graph, java, window(3, 128, f, true, r), 2e-5);
        assertSameOutputs(graph, java, window(4, 32, f, false, r), 2e-5);
    }

    @Test
    void logitsAgreeOnBlockWindowsOfAFreshNetworkWithTwoHeads() {
        PolicyConfig c = new PolicyConfig(List.of("confidence", "margin", "entropy"), 32, 2, 64, 5);
        PolicyNet graph = new PolicyNet(c);
        JavaPolicyNet java = new JavaPolicyNet(c, graph.weights(), "graph");
        SplittableRandom r = new SplittableRandom(3);
        for (int width : new int[]{1, 8, 33}) assertSameOutputs(graph, java, window(5, width, 3, false, r), 2e-5);
    }
}
