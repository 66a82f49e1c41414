package dev.unmask.dllm.onnx;

import dev.unmask.nn.onnx.OnnxGraph;
import dev.unmask.nn.onnx.OnnxOps;
import dev.unmask.nn.onnx.Ort;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.*;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Predictions;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * The per-position statistics of {@link Predictions#fromLogits}, computed by ONNX Runtime on the
 * model's own logits tensor, so that only four numbers per position cross into Java instead of a
 * whole vocabulary (126k floats per position for LLaDA). A small graph of its own, chained onto
 * any dLLM's output tensor without copying it:
 * <pre>
 *   logits FLOAT [batch, length, vocab], positions INT64 [queried] (flat indices b * length + i)
 *   -> x       = Gather(Reshape(logits, [-1, vocab]), positions)   only the queried positions
 *   -> probs   = Softmax(x)                        [queried, vocab] (fetched only when distributions are asked for)
 *   -> entropy = -ReduceSum(probs * LogSoftmax(x)) [queried], in nats
 *   -> top2    = TopK(probs + penalty, 2)          [queried, 2] values and INT64 ids
 * </pre>
 * penalty is -2 at the mask id and 0 elsewhere, so [MASK] is never a top-1 or top-2 choice while
 * the entropy still counts it, exactly as {@link Predictions#fromLogits}; TopK breaks ties towards
 * the lower id, like the Java loop. The queried positions go through the graph in chunks of at
 * most {@link #CHUNK_ELEMENTS} / vocab positions, so its [queried, vocab] intermediates stay near
 * 128 MB each whatever the batch (at LLaDA's 126,464 tokens, 265 positions a call; at the built-in
 * vocabularies every step is one call). Not thread-safe: one instance per denoiser.
 */
final class OnnxStatistics implements AutoCloseable {
    static final String LOGITS = "logits", POSITIONS = "positions", PROBS = "probs", ENTROPY = "entropy", TOP_PROBS = "top_probs", TOP_IDS = "top_ids";

    /** At most this many logits (queried positions x vocab) per call of the statistics graph. */
    static final long CHUNK_ELEMENTS = 1L << 25;

    private final OrtSession session;
    /** Values (floats and ids) copied out of ONNX Runtime into Java so far. */
    private long valuesOut;

    /** Logits per call of this instance's graph (tests use small chunks). */
    private final long chunkElements;

    OnnxStatistics(int vocab, int maskId, String provider, int deviceId, int threads) {
        this(vocab, maskId, provider, deviceId, threads, CHUNK_ELEMENTS);
    }

    OnnxStatistics(int vocab, int maskId, String provider, int deviceId, int threads, long chunkElements) {
        if (chunkElements < 1) throw new IllegalArgumentException("chunkElements must be positive, got " + chunkElements);
        this.chunkElements = chunkElements;
        // no memory pattern: the last chunk of a step is shorter, and one arena region then serves every chunk size
        this.session = Ort.open(graph(vocab, maskId), provider, deviceId, threads, "dLLM statistics head", false);
    }

    /** The statistics graph's ModelProto bytes for this vocabulary size and mask id (mask id -1: none excluded). */
    static byte[] graph(int vocab, int maskId) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("unmask_dllm_statistics");
        g.addInput(valueInfo(LOGITS, OnnxMl.TensorProto.DataType.FLOAT, "batch", "length", (long) vocab));
        g.addInput(valueInfo(POSITIONS, OnnxMl.TensorProto.DataType.INT64, "queried"));
        float[] penalty = new float[vocab];
        if (maskId >= 0) penalty[maskId] = -2f;
        OnnxMl.TensorProto.Builder pen = OnnxMl.TensorProto.newBuilder().setName("mask_penalty").addDims(vocab)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber());
        for (float p : penalty) pen.addFloatData(p);
        g.addInitializer(pen);
        g.addInitializer(longs("last_axis", -1));
        g.addInitializer(longs("k", 2));
        g.addInitializer(longs("rows_by_vocab", -1, vocab));
        // only the queried positions: [batch * length, vocab] rows picked by flat index
        g.addNode(node("Reshape", new String[]{LOGITS, "rows_by_vocab"}, new String[]{"flat_logits"}));
        g.addNode(node("Gather", new String[]{"flat_logits", POSITIONS}, new String[]{"queried_logits"}, intAttr("axis", 0)));
        g.addNode(node("Softmax", new String[]{"queried_logits"}, new String[]{PROBS}, intAttr("axis", -1)));
        g.addNode(node("LogSoftmax", new String[]{"queried_logits"}, new String[]{"log_probs"}, intAttr("axis", -1)));
        g.addNode(node("Mul", new String[]{PROBS, "log_probs"}, new String[]{"p_log_p"}));
        g.addNode(node("ReduceSum", new String[]{"p_log_p", "last_axis"}, new String[]{"neg_entropy"}, intAttr("keepdims", 0)));
        g.addNode(node("Neg", new String[]{"neg_entropy"}, new String[]{ENTROPY}));
        g.addNode(node("Add", new String[]{PROBS, "mask_penalty"}, new String[]{"probs_no_mask"}));
        g.addNode(node("TopK", new String[]{"probs_no_mask", "k"}, new String[]{TOP_PROBS, TOP_IDS},
                intAttr("axis", -1), intAttr("largest", 1), intAttr("sorted", 1)));
        g.addOutput(valueInfo(PROBS, OnnxMl.TensorProto.DataType.FLOAT, "queried", (long) vocab));
        g.addOutput(valueInfo(ENTROPY, OnnxMl.TensorProto.DataType.FLOAT, "queried"));
        g.addOutput(valueInfo(TOP_PROBS, OnnxMl.TensorProto.DataType.FLOAT, "queried", 2L));
        g.addOutput(valueInfo(TOP_IDS, OnnxMl.TensorProto.DataType.INT64, "queried", 2L));
        return OnnxMl.ModelProto.newBuilder().setIrVersion(OnnxGraph.IR_VERSION).setProducerName("unmask")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxOps.OPSET).build())
                .setGraph(g).build().toByteArray();
    }

    /**
     * Statistics of the queried positions of an [n, len, vocab] logits tensor, written into rows
     * {@code rows} of the arrays (row r of the tensor is row rows[r] of the batch, its first
     * lengths[r] positions). The distribution is filled only when distributions is non-null.
     */
    void compute(OrtEnvironment env, OnnxTensor logits, int[] rows, int[] lengths, boolean[][] query, int[][] top1, float[][] conf, float[][] top2,
                 float[][] entropy, float[][][] distributions) {
        long[] shape = logits.getInfo().getShape();
        int len = (int) shape[1], vocab = (int) shape[2];
        int k = 0;
        for (int r = 0; r < rows.length; r++) for (int i = 0; i < lengths[r]; i++) if (query[rows[r]][i]) k++;
        if (k == 0) return;
        long[] flat = new long[k];
        k = 0;
        for (int r = 0; r < rows.length; r++) for (int i = 0; i < lengths[r]; i++) if (query[rows[r]][i]) flat[k++] = (long) r * len + i;
        int chunk = chunkPositions(vocab, chunkElements);
        for (int from = 0; from < k; from += chunk) {
            long[] part = from == 0 && k <= chunk ? flat : Arrays.copyOfRange(flat, from, Math.min(k, from + chunk));
            computeChunk(env, logits, part, len, vocab, rows, top1, conf, top2, entropy, distributions);
        }
    }

    /** Queried positions per call of the statistics graph for this vocabulary size. */
    static int chunkPositions(int vocab, long chunkElements) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, chunkElements / Math.max(1, vocab)));
    }

    /** Values copied out of ONNX Runtime into Java by this head so far: 5 per queried position (entropy, top-2 probabilities and ids), plus vocab per position when distributions are asked for. */
    long valuesOut() {
        return valuesOut;
    }

    private void computeChunk(OrtEnvironment env, OnnxTensor logits, long[] flat, int len, int vocab, int[] rows, int[][] top1, float[][] conf,
                              float[][] top2, float[][] entropy, float[][][] distributions) {
        int k = flat.length;
        Set<String> wanted = distributions == null ? Set.of(ENTROPY, TOP_PROBS, TOP_IDS) : Set.of(ENTROPY, TOP_PROBS, TOP_IDS, PROBS);
        try (OnnxTensor positions = OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[]{k});
             OrtSession.Result res = session.run(Map.of(LOGITS, logits, POSITIONS, positions), wanted)) {
            FloatBuffer ent = ((OnnxTensor) res.get(ENTROPY).orElseThrow()).getFloatBuffer();
            FloatBuffer tp = ((OnnxTensor) res.get(TOP_PROBS).orElseThrow()).getFloatBuffer();
            LongBuffer ti = ((OnnxTensor) res.get(TOP_IDS).orElseThrow()).getLongBuffer();
            FloatBuffer probs = distributions == null ? null : ((OnnxTensor) res.get(PROBS).orElseThrow()).getFloatBuffer();
            valuesOut += ent.remaining() + tp.remaining() + ti.remaining() + (probs == null ? 0 : probs.remaining());
            for (int q = 0; q < k; q++) {
                int b = rows[(int) (flat[q] / len)], i = (int) (flat[q] % len);
                top1[b][i] = (int) ti.get(2 * q);
                conf[b][i] = tp.get(2 * q);
                top2[b][i] = Math.max(0f, tp.get(2 * q + 1)); // a vocabulary of the mask and one token has no second choice
                entropy[b][i] = ent.get(q);
                if (probs != null) {
                    float[] p = new float[vocab];
                    probs.get(q * vocab, p);
                    distributions[b][i] = p;
                }
            }
        } catch (OrtException e) {
            throw new UnmaskException("dLLM statistics head: " + Ort.firstLine(e.getMessage()));
        }
    }

    private static OnnxMl.TensorProto longs(String name, long... values) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).addDims(values.length)
                .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber());
        for (long v : values) t.addInt64Data(v);
        return t.build();
    }

    private static OnnxMl.NodeProto node(String op, String[] in, String[] out, OnnxMl.AttributeProto... attrs) {
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(out[0] + "_" + op);
        for (String i : in) n.addInput(i);
        for (String o : out) n.addOutput(o);
        for (OnnxMl.AttributeProto a : attrs) n.addAttribute(a);
        return n.build();
    }

    private static OnnxMl.AttributeProto intAttr(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, OnnxMl.TensorProto.DataType type, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) dim.setDimParam(s);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
                .build();
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // already closed
        }
    }
}
