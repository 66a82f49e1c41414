package dev.unmask.dllm.onnx;

import dev.unmask.nn.onnx.OnnxGraph;
import dev.unmask.nn.onnx.OnnxOps;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmConfig;
import org.tribuo.util.onnx.ONNXOperators;
import org.tribuo.util.onnx.ONNXPlaceholder;
import org.tribuo.util.onnx.ONNXRef;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the built-in dLLM as an ONNX model that {@link OnnxDenoiser} runs:
 * <pre>
 *   input_ids      INT64 [batch, length]   token ids, rows right-padded with pad_id
 *   attention_mask INT64 [batch, length]   1 for real tokens, 0 for padding (padding keys are masked out of attention)
 *   logits         FLOAT [batch, length, vocab]
 * </pre>
 * The folder gets model.onnx, vocab.json, descriptor.json and checksums.json (SHA-256 of each,
 * written last, every file atomically).
 */
public final class DllmOnnxExporter {
    public static final String MODEL = "model.onnx", VOCAB = "vocab.json", DESCRIPTOR = "descriptor.json";
    public static final String INPUT_IDS = "input_ids", ATTENTION_MASK = "attention_mask", LOGITS = "logits";
    /** The last hidden state [batch, length, d], in the variant {@link OnnxDenoiser} builds for hidden-state features. */
    public static final String HIDDEN = "hidden";

    private DllmOnnxExporter() {
    }

    /** Exports a loaded model (its weights are read once from the SameDiff graph). */
    public static void export(BuiltinDllm model, Path outDir) {
        export(model.config(), model.vocabulary(), model.weights(), model.describe(), outDir);
    }

    public static void export(DllmConfig config, Vocabulary vocab, Map<String, Safetensors.Tensor> weights, String description, Path outDir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(MODEL, onnxBytes(config, vocab.size(), weights, description, true));
        files.put(VOCAB, (Json.write(vocab) + "\n").getBytes(StandardCharsets.UTF_8));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", DllmDescriptor.FORMAT);
        d.put("description", "exported from " + description);
        d.put("onnx", MODEL);
        d.put("input_ids", INPUT_IDS);
        d.put("attention_mask", ATTENTION_MASK);
        d.put("logits", LOGITS);
        d.put("vocab", VOCAB);
        d.put("mask_id", vocab.maskId());
        d.put("eos_id", vocab.eosId());
        d.put("pad_id", vocab.padId());
        d.put("max_length", config.maxLength());
        d.put("provider", "cpu");
        files.put(DESCRIPTOR, (Json.write(d) + "\n").getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.writeInto(outDir, files);
    }

    /**
     * The ONNX ModelProto bytes of the built-in architecture with these weights. Without an
     * attention mask the graph attends to every position, as most exported third-party dLLMs do;
     * {@link OnnxDenoiser} then runs only equal-length rows together.
     */
    public static byte[] onnxBytes(DllmConfig c, int vocab, Map<String, Safetensors.Tensor> w, String description, boolean attentionMask) {
        return onnxBytes(c, vocab, w, description, attentionMask, false);
    }

    /** As above; with {@code withHidden}, the final LayerNorm's output is a second output, {@link #HIDDEN}. */
    public static byte[] onnxBytes(DllmConfig c, int vocab, Map<String, Safetensors.Tensor> w, String description, boolean attentionMask, boolean withHidden) {
        OnnxGraph g = new OnnxGraph(w, "dLLM " + description);
        int d = c.dModel();
        ONNXPlaceholder ids = g.input(INPUT_IDS, OnnxGraph.INT64, "token ids [batch, length], rows right-padded with pad_id", "batch", "length");
        ONNXRef<?> tok = g.op(ONNXOperators.GATHER, "embed.tok", Map.of("axis", 0), g.weight("embed.tokens", vocab, d), ids);
        ONNXRef<?> len = g.op(OnnxOps.SHAPE, "length", Map.of("start", 1, "end", 2), ids);
        ONNXRef<?> zero = g.longs("zero", 0), axis0 = g.longs("axis0", 0);
        ONNXRef<?> x = tok;
        if (!c.rotaryOnly()) {
            ONNXRef<?> pos = g.op(OnnxOps.SLICE, "embed.pos", g.weight("embed.positions", c.maxLength(), d), zero, len, axis0);
            x = g.op(ONNXOperators.ADD, "embed", tok, pos);
        }
        ONNXRef<?> keyBias;
        if (attentionMask) {
            ONNXPlaceholder mask = g.input(ATTENTION_MASK, OnnxGraph.INT64, "1 for real tokens, 0 for padding [batch, length]", "batch", "length");
            keyBias = g.keyBiasFromMask(g.op(ONNXOperators.CAST, "mask_float", Map.of("to", OnnxGraph.FLOAT), mask));
        } else {
            keyBias = g.scalar("no_key_bias", 0f);
        }
        OnnxGraph.Rotary rotary = c.rotary() ? OnnxGraph.Rotary.of(g, c.maxLength(), d, c.heads(), zero, len, axis0) : null;
        for (int l = 0; l < c.layers(); l++) x = g.encoderLayer(x, keyBias, rotary, "layer" + l, d, c.heads(), c.ffDim());
        ONNXRef<?> last = g.layerNorm(x, "final_ln", d);
        ONNXRef<?> logits = g.linear(last, "head", d, vocab);
        g.output(logits, LOGITS, OnnxGraph.FLOAT, "vocabulary logits [batch, length, vocab]", "batch", "length", (long) vocab);
        if (withHidden) g.output(last, HIDDEN, OnnxGraph.FLOAT, "the last hidden state [batch, length, d]", "batch", "length", (long) d);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("unmask.format", "unmask-dllm-onnx-v1");
        meta.put("unmask.source", description);
        meta.put("unmask.config", Json.writeLine(c));
        return g.toBytes("unmask_builtin_dllm", "The unmask built-in masked-diffusion transformer (bidirectional, pre-LN).", meta);
    }
}
