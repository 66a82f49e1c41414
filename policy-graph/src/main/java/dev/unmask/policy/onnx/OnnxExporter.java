package dev.unmask.policy.onnx;

import dev.unmask.policy.export.DecodingContract;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.UnmaskException;
import dev.unmask.nn.onnx.OnnxGraph;
import dev.unmask.nn.onnx.OnnxOps;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyProvenance;
import org.tribuo.util.onnx.ONNXOperators;
import org.tribuo.util.onnx.ONNXPlaceholder;
import org.tribuo.util.onnx.ONNXRef;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained policy as an ONNX model (Tribuo's graph writer plus {@link OnnxOps}), with
 * dynamic batch and positions axes:
 * <pre>
 *   features     FLOAT [batch, positions, F]  the policy's features (config order) of each position of the active block; 0 where not eligible
 *                                             (context buffer: of every position of the generation buffer; the dLLM's statistics 0 where a token is written)
 *   eligible     FLOAT [batch, positions]     1 where the position is still masked (may be unmasked now), 0 elsewhere
 *                                             (context buffer: 1 on the active block's masked positions; every position is attended to)
 *   unmask_prob  FLOAT [batch, positions]     sigmoid(logit): probability of unmasking the position now; 0 where not eligible
 *   logits       FLOAT [batch, positions]     the raw logit (divide by a temperature before the sigmoid); -inf where not eligible
 * </pre>
 * The sinusoidal encoding of the index inside the window is computed in the graph (a constant
 * table of {@code maxPositions} rows, sliced to the positions axis), so an engine passes only
 * features. The value head (PPO's critic) is not exported. docs/policy-format.md describes the
 * computation.
 */
public final class OnnxExporter {
    public static final String FEATURES = "features", ELIGIBLE = "eligible", UNMASK_PROB = "unmask_prob", LOGITS = "logits";
    public static final String META_FEATURES = "unmask.features", META_CONFIG = "unmask.policy_config", META_MAX_POSITIONS = "unmask.max_positions";
    /** Prefix of the provenance entries in metadata_props: unmask.provenance.dllm_sha256 and so on. */
    public static final String META_PROVENANCE = "unmask.provenance.";
    public static final String FILE = "policy.onnx";
    public static final int DEFAULT_MAX_POSITIONS = 4096;

    private OnnxExporter() {
    }

    public static byte[] onnxBytes(PolicyNet net, int maxPositions) {
        return onnxBytes(net.config(), net.weights(), maxPositions, null);
    }

    /**
     * The ModelProto bytes, from the policy's config and its named weights (no ND4J needed).
     *
     * @param provenance written to metadata_props under {@link #META_PROVENANCE}; null for none
     */
    public static byte[] onnxBytes(PolicyConfig c, Map<String, Safetensors.Tensor> weights, int maxPositions, PolicyProvenance provenance) {
        return onnxBytes(c, weights, maxPositions, provenance, DecodingContract.of(c, provenance, null));
    }

    /** As above, with the decoding contract (the dLLM's ids, trained lengths, knob range) under {@code unmask.}. */
    public static byte[] onnxBytes(PolicyConfig c, Map<String, Safetensors.Tensor> weights, int maxPositions, PolicyProvenance provenance,
                                   DecodingContract contract) {
        if (maxPositions < 1 || maxPositions > 1 << 16) throw new UnmaskException("max positions must be in 1..65536, got " + maxPositions);
        int f = c.features().size(), d = c.dModel();
        OnnxGraph g = new OnnxGraph(weights, "policy");
        ONNXPlaceholder feats = g.input(FEATURES, OnnxGraph.FLOAT,
                "per-position features " + c.features() + " of the active block [batch, positions, " + f + "]; zeros where not eligible", "batch", "positions", (long) f);
        ONNXPlaceholder elig = g.input(ELIGIBLE, OnnxGraph.FLOAT, "1 where the position is masked and may be unmasked now, 0 elsewhere [batch, positions]", "batch", "positions");
        ONNXRef<?> x = g.linear(feats, "embed", f, d);
        ONNXRef<?> width = g.op(OnnxOps.SHAPE, "positions", Map.of("start", 1, "end", 2), feats);
        ONNXRef<?> pe = g.op(OnnxOps.SLICE, "posenc", g.floats("posenc_table", new long[]{maxPositions, d}, PolicyWindow.sinusoid(maxPositions, d)),
                g.longs("zero", 0), width, g.longs("axis0", 0));
        x = g.op(ONNXOperators.ADD, "embed_pe", x, pe);
        // a block-window policy attends to the eligible positions only; a whole-buffer one to every position in the input
        ONNXRef<?> keys = c.seesWholeBuffer()
                ? g.op(ONNXOperators.ADD, "visible", g.op(ONNXOperators.MUL, "visible.zeros", elig, g.scalar("visible.zero", 0f)), g.scalar("visible.one", 1f))
                : elig;
        x = g.encoderLayer(x, g.keyBiasFromMask(keys), "layer0", d, c.heads(), c.ffDim());
        ONNXRef<?> logit3 = g.linear(g.layerNorm(x, "final_ln", d), "head", d, 1);
        ONNXRef<?> logit = g.op(OnnxOps.RESHAPE, "logit", logit3, g.longs("bp_shape", 0, 0));
        ONNXRef<?> prob = g.op(ONNXOperators.MUL, "prob", g.op(ONNXOperators.SIGMOID, "sigmoid", logit), elig);
        ONNXRef<?> masked = g.op(ONNXOperators.WHERE, "logit_masked",
                g.op(ONNXOperators.CAST, "eligible_bool", Map.of("to", OnnxGraph.BOOL), elig), logit, g.scalar("neg_inf", Float.NEGATIVE_INFINITY));
        g.output(prob, UNMASK_PROB, OnnxGraph.FLOAT, "sigmoid(logit): probability of unmasking each position now; 0 where not eligible [batch, positions]", "batch", "positions");
        g.output(masked, LOGITS, OnnxGraph.FLOAT, "raw logit per position (use sigmoid(logit / T) for temperature T); -inf where not eligible [batch, positions]", "batch", "positions");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.putAll(contract.toMetadata("unmask."));
        meta.put(META_CONFIG, Json.writeLine(c));
        meta.put(META_MAX_POSITIONS, Integer.toString(maxPositions));
        meta.put("unmask.format", "unmask-policy-onnx-v1");
        if (provenance != null) meta.putAll(provenance.toMetadata(META_PROVENANCE));
        return g.toBytes("unmask_policy", "unmask unmasking policy: one pre-LN transformer encoder layer over the active block, "
                + "a Bernoulli per position. See docs/policy-format.md.", meta);
    }

    /**
     * Writes the model. A path ending in .onnx gets the file plus {@code <file>.sha256}
     * (sha256sum format); any other path is a folder that gets policy.onnx and checksums.json.
     * Every file is written atomically.
     *
     * @return the .onnx file written
     */
    public static Path write(PolicyNet net, Path out, int maxPositions) {
        return write(net, out, maxPositions, null);
    }

    /** As {@link #write(PolicyNet, Path, int)}, with the policy's provenance in the metadata (null for none). */
    public static Path write(PolicyNet net, Path out, int maxPositions, PolicyProvenance provenance) {
        return write(net, out, maxPositions, provenance, DecodingContract.of(net.config(), provenance, null));
    }

    /** As above, with the decoding contract in the metadata. */
    public static Path write(PolicyNet net, Path out, int maxPositions, PolicyProvenance provenance, DecodingContract contract) {
        byte[] bytes = onnxBytes(net.config(), net.weights(), maxPositions, provenance, contract);
        if (out.getFileName().toString().endsWith(".onnx")) {
            AtomicFiles.write(out, bytes);
            AtomicFiles.writeString(out.resolveSibling(out.getFileName() + ".sha256"), Checksums.sha256(bytes) + "  " + out.getFileName() + "\n");
            return out;
        }
        CheckpointFiles.writeInto(out, Map.of(FILE, bytes));
        return out.resolve(FILE);
    }
}
