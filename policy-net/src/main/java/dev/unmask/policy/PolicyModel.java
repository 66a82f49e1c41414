package dev.unmask.policy;

import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.StepObservation;

import java.util.Map;

/**
 * The policy network behind {@link LearnedPolicy}: a configuration, named weights, and a forward
 * pass from a {@link PolicyWindow} to per-position logits. Two implementations compute the same
 * network: {@link JavaPolicyNet} in plain Java (this module, no native library) and the SameDiff
 * graph the trainers differentiate ({@code policy-graph}'s {@code PolicyNet}), which evaluations
 * use so that committed rows replay bit for bit.
 */
public interface PolicyModel {
    PolicyConfig config();

    /** The weights by name, as checkpoints and exports store them. */
    Map<String, Safetensors.Tensor> weights();

    /** Logits [rows][width] (-infinity where not eligible) and, when asked, the value head's estimate per row. */
    record Output(float[][] logits, float[] values) {
    }

    Output forward(PolicyWindow window, boolean withValues);

    default float[][] logits(PolicyWindow window) {
        return forward(window, false).logits();
    }

    default PolicyWindow window(StepObservation o) {
        return window(o, null);
    }

    default PolicyWindow window(StepObservation o, float[] knobByRow) {
        return PolicyWindow.of(config(), o, knobByRow);
    }

    /** The runtime a row's label names ({@code runtime=...}), or null for the SameDiff graph, which committed rows ran on. */
    default String runtime() {
        return null;
    }

    default long parameterCount() {
        long n = 0;
        for (Safetensors.Tensor t : weights().values()) n += t.data().length;
        return n;
    }
}
