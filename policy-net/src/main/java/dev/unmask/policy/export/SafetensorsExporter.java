package dev.unmask.policy.export;

import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.io.Safetensors;
import dev.unmask.kernels.TransformerKernels;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.PolicyModel;
import dev.unmask.policy.PolicyProvenance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * Writes a policy for re-implementation elsewhere: {@code policy.safetensors} (F32 weights, the
 * value head left out) and {@code policy-spec.json} (the architecture, every tensor's shape and
 * role, the exact formulas), plus checksums.json. docs/policy-format.md is the prose for it.
 */
public final class SafetensorsExporter {
    public static final String WEIGHTS = "policy.safetensors", SPEC = "policy-spec.json", FORMAT = "unmask-policy-export-v1";
    /** Prefix of the provenance entries in the safetensors header's __metadata__: provenance.dllm_sha256 and so on. */
    public static final String META_PROVENANCE = "provenance.";

    private SafetensorsExporter() {
    }

    /** The inference weights: everything but the value head. */
    public static Map<String, Safetensors.Tensor> inferenceWeights(Map<String, Safetensors.Tensor> all) {
        Map<String, Safetensors.Tensor> w = new TreeMap<>(all);
        w.keySet().removeIf(k -> k.startsWith("value_head."));
        return w;
    }

    public static Map<String, Object> spec(PolicyConfig c, Map<String, Safetensors.Tensor> weights) {
        return spec(c, weights, null);
    }

    /**
     * The spec, with the policy's provenance (null for none) under {@code provenance}; a knob policy
     * also gets {@code knob_range}, the knob values it was trained for (null when not recorded).
     */
    public static Map<String, Object> spec(PolicyConfig c, Map<String, Safetensors.Tensor> weights, PolicyProvenance provenance) {
        return spec(c, weights, provenance, DecodingContract.of(c, provenance, null));
    }

    /** As above, with the decoding contract: {@code dllm} {mask_id, eos_id, vocab_size} and the trained block and buffer lengths (null where unknown). */
    public static Map<String, Object> spec(PolicyConfig c, Map<String, Safetensors.Tensor> weights, PolicyProvenance provenance, DecodingContract contract) {
        int d = c.dModel();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("format", FORMAT);
        s.put("description", "unmask unmasking policy: per-position features of the active block -> one pre-LN transformer encoder layer -> one logit per position; see docs/policy-format.md");
        s.put("context", c.context());
        s.put("context_definition", c.seesWholeBuffer()
                ? "buffer: the window is the whole generation buffer (W = L, j = buffer position); every position is a key (key_bias 0); "
                + "the dLLM's statistics are 0 where a token is written; eligible = the active block's masked positions"
                : "block: the window is the active block (W = B, j = index inside the block); keys are the eligible positions");
        s.put("features", c.features());
        s.put("feature_definitions", featureDefinitions(c.parsedFeatures().stream().anyMatch(PolicyFeatures::isHidden)));
        s.putAll(contract.toSpec());
        s.put("confidence_definition", CONFIDENCE_DEFINITION);
        if (c.parsedFeatures().contains(PolicyFeatures.KNOB)) {
            s.put("knob_range", provenance == null ? null : provenance.knobRange());
            s.put("knob_range_definition", "[lo, hi]: the knob values the policy was trained on (what a knob means is the provenance's reward: "
                    + "the speed exponent alpha, or an NFE budget offset); outside it the policy extrapolates. null: not recorded");
        }
        if (provenance != null) s.put("provenance", Json.MAPPER.convertValue(provenance, Map.class));
        s.put("d_model", d);
        s.put("heads", c.heads());
        s.put("head_dim", d / c.heads());
        s.put("ff_dim", c.ffDim());
        s.put("layers", 1);
        s.put("layer_norm_epsilon", TransformerKernels.LN_EPS);
        s.put("layer_norm", "y = (x - mean(x)) / sqrt(var(x) + epsilon) * gain + bias over the last axis; var is the biased (population) variance");
        s.put("activation", "gelu_sigmoid: gelu(x) = x * sigmoid(" + TransformerKernels.GELU_SIGMOID_SCALE + " * x), sigmoid(z) = 1 / (1 + exp(-z)) (not the erf form)");
        s.put("linear", "y = x @ W + b with W stored [in, out] row-major, b [out]");
        s.put("position_encoding", "pe[j, 2i] = sin(j * 10000^(-2i/d_model)), pe[j, 2i+1] = cos(j * 10000^(-2i/d_model)), j = 0-based index inside the active block window, i = 0..d_model/2-1");
        s.put("attention_key_bias", "0 for eligible keys, -1e9 for the others, added to the scaled scores before the softmax");
        s.put("attention_scale", "1 / sqrt(head_dim)");
        s.put("head_split", "a [positions, d_model] projection is split into heads as [positions, heads, head_dim] (head h = columns h*head_dim .. (h+1)*head_dim-1) and merged back the same way");
        s.put("computation", List.of(
                "x = features @ embed.weight + embed.bias + pe[0:W]                                 # [W, d_model]",
                "h = LN(x; layer0.ln1)",
                "q, k, v = h @ layer0.attn.{q,k,v}.weight + bias, split into heads                 # [heads, W, head_dim]",
                "a = softmax(q k^T / sqrt(head_dim) + key_bias, over keys)                          # [heads, W, W]",
                "x = x + merge_heads(a v) @ layer0.attn.out.weight + layer0.attn.out.bias",
                "x = x + gelu(LN(x; layer0.ln2) @ layer0.mlp.in.weight + layer0.mlp.in.bias) @ layer0.mlp.out.weight + layer0.mlp.out.bias",
                "logit = LN(x; final_ln) @ head.weight + head.bias                                  # [W]",
                "p = sigmoid(logit / temperature) on eligible positions"));
        s.put("decision", "each eligible position is unmasked with probability p, independently (sample) or when p >= 0.5 (greedy); "
                + "if none is chosen, the eligible position with the highest logit is (lowest index on ties)");
        Map<String, Object> shapes = new TreeMap<>();
        weights.forEach((k, t) -> shapes.put(k, t.shape()));
        s.put("tensors", shapes);
        return s;
    }

    /** How the dLLM statistics are computed from its logits (Predictions.fromLogits, the ONNX statistics head, the Python package). */
    public static final String CONFIDENCE_DEFINITION = "p = softmax(logits) over the whole vocabulary, the mask token included, in float32; "
            + "top1 = the most probable token other than the mask token (lowest id on ties); confidence = p[top1]; "
            + "top2 = the second most probable token other than the mask token (0 if none); entropy = -sum(p * log_softmax(logits)) in nats over the whole vocabulary";

    /** Every feature's definition; the hidden-state features' only for a policy that reads them. */
    static Map<String, String> featureDefinitions(boolean withHidden) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("confidence", "p(top-1 token) of the dLLM at the position");
        m.put("margin", "p(top-1) - p(top-2)");
        m.put("entropy", "entropy of the dLLM's distribution at the position in nats, divided by ln(V), V the dLLM's vocabulary size");
        m.put("masked_fraction", "eligible positions in the active block / block length (same value at every position)");
        m.put("step_fraction", "steps already spent in the active block / block length (same value at every position)");
        m.put("confidence_logodds", "ln(c / (1 - c)) of the confidence c, with 1 - c floored at 1e-6");
        m.put("mask_bit", "1 where the position is still masked, 0 where it holds a token");
        m.put("buffer_step_fraction", "steps taken in the episode / buffer length L (same value at every position)");
        m.put("masked_before", "masked positions of the generation buffer before this one / buffer length L (0 at the leftmost masked position)");
        m.put("knob", "the speed/accuracy knob: the exponent alpha of the reward the policy is asked to serve (same value at every position)");
        m.put("top_is_eos", "1 where the dLLM's most probable token at the position is the end-of-sequence token, else 0 (0 where not masked)");
        for (int k = 0; withHidden && k < HiddenFeatures.WIDTH; k++) {
            m.put("hidden_" + k, "sum_j h[j] P[j][" + k + "]: h the dLLM's last hidden state at the position (after its final LayerNorm, width d), "
                    + "P the [d, " + HiddenFeatures.WIDTH + "] projection of new java.util.Random(" + HiddenFeatures.SEED + ").nextGaussian() / sqrt(d), row-major (at every position)");
        }
        return m;
    }

    /** Writes policy.safetensors, policy-spec.json and checksums.json (last) into {@code dir}, each file atomically. */
    public static void write(PolicyModel net, Path dir) {
        write(net, dir, null);
    }

    /** As {@link #write(PolicyModel, Path)}, with the policy's provenance in the safetensors __metadata__ (null for none). */
    public static void write(PolicyModel net, Path dir, PolicyProvenance provenance) {
        write(net, dir, provenance, DecodingContract.of(net.config(), provenance, null));
    }

    /** As above, with the decoding contract in the header's __metadata__ (no prefix) and in the spec. */
    public static void write(PolicyModel net, Path dir, PolicyProvenance provenance, DecodingContract contract) {
        Map<String, Safetensors.Tensor> w = inferenceWeights(net.weights());
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", FORMAT);
        metadata.putAll(contract.toMetadata(""));
        if (provenance != null) metadata.putAll(provenance.toMetadata(META_PROVENANCE));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(WEIGHTS, Safetensors.encode(w, metadata));
        files.put(SPEC, (Json.write(spec(net.config(), w, provenance, contract)) + "\n").getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.writeInto(dir, files);
    }
}
