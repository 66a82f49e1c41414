package dev.unmask.runs;

import dev.unmask.policy.onnx.OnnxPolicyModel;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyInputs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Test vectors for a re-implementation of an exported policy: the policy's inputs at every step of
 * real decoding (validation prompts, the dLLM it will decode with, greedy) and what the exported
 * ONNX model answers on them, so an engine's port can check itself window by window
 * ({@code python/tests} does). One safetensors file:
 * <pre>
 *   features    [windows, width, F]  the inputs, as docs/policy-format.md lays them out
 *   eligible    [windows, width]     1 / 0
 *   unmask_prob [windows, width]     ONNX Runtime's output (0 where not eligible)
 *   logits      [windows, width]     ONNX Runtime's output (-inf where not eligible)
 * </pre>
 * with the task, split, seed, prompts, lengths and knob in its {@code __metadata__}.
 */
public final class ExportTestVectors {
    public static final String FILE = "test-vectors.safetensors";

    private ExportTestVectors() {
    }

    /** What was recorded. */
    public record Recorded(byte[] bytes, int windows, int width, int prompts) {
    }

    /**
     * Decodes {@code n} validation prompts of {@code task} with the checkpoint's network (greedy), in
     * a buffer of {@code genLength} and blocks of {@code blockLength}, and records every window; a knob
     * policy is run at {@code knob}.
     */
    public static Recorded record(PolicyNet net, OnnxPolicyModel onnx, Denoiser dllm, Task task, int genLength, int blockLength,
                                  Double knob, int n, long seed) {
        LearnedPolicy base = new LearnedPolicy(net, 1.0, false, "export");
        LearnedPolicy policy = knob == null ? base : base.withKnob(knob);
        int f = net.config().features().size();
        boolean wholeBuffer = net.config().seesWholeBuffer();
        List<float[]> feats = new ArrayList<>(), elig = new ArrayList<>(), probs = new ArrayList<>(), logits = new ArrayList<>();
        int[] width = {0};
        UnmaskPolicy recording = new UnmaskPolicy() {
            @Override
            public String name() {
                return policy.name();
            }

            @Override
            public Map<String, Object> params() {
                return policy.params();
            }

            @Override
            public boolean[][] select(StepObservation obs) {
                float[] knobs = null;
                if (knob != null) {
                    knobs = new float[obs.rows()];
                    Arrays.fill(knobs, knob.floatValue());
                }
                PolicyInputs in = PolicyInputs.of(net.config().parsedFeatures(), obs, knobs, wholeBuffer);
                float[][] out = onnx.probabilitiesAndLogits(in.features(), in.eligible(), in.rows(), in.width());
                width[0] = in.width();
                for (int r = 0; r < in.rows(); r++) {
                    int w = in.width();
                    feats.add(Arrays.copyOfRange(in.features(), r * w * f, (r + 1) * w * f));
                    elig.add(Arrays.copyOfRange(in.eligible(), r * w, (r + 1) * w));
                    probs.add(Arrays.copyOfRange(out[0], r * w, (r + 1) * w));
                    logits.add(Arrays.copyOfRange(out[1], r * w, (r + 1) * w));
                }
                return policy.select(obs);
            }
        };
        UnmaskingEnv env = new UnmaskingEnv(dllm, task, genLength, blockLength, 0.0, Reward.DEFAULT);
        env.run(task.dataset(Split.VALIDATION, seed, n), seed, recording);
        int windows = feats.size(), w = width[0];
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("features", new Safetensors.Tensor(new long[]{windows, w, f}, concat(feats)));
        tensors.put("eligible", new Safetensors.Tensor(new long[]{windows, w}, concat(elig)));
        tensors.put("unmask_prob", new Safetensors.Tensor(new long[]{windows, w}, concat(probs)));
        tensors.put("logits", new Safetensors.Tensor(new long[]{windows, w}, concat(logits)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "unmask-policy-test-vectors-v1");
        meta.put("dllm", dllm.describe());
        meta.put("task", task.name());
        meta.put("split", Split.VALIDATION.label());
        meta.put("seed", Long.toString(seed));
        meta.put("prompts", Integer.toString(n));
        meta.put("gen_length", Integer.toString(genLength));
        meta.put("block_length", Integer.toString(blockLength));
        if (knob != null) meta.put("knob", String.format(Locale.ROOT, "%s", knob));
        meta.put("features", String.join(",", net.config().features()));
        meta.put("decisions", "greedy, by the checkpoint's own network (SameDiff)");
        return new Recorded(Safetensors.encode(tensors, meta), windows, w, n);
    }

    private static float[] concat(List<float[]> parts) {
        int size = 0;
        for (float[] p : parts) size += p.length;
        float[] out = new float[size];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
