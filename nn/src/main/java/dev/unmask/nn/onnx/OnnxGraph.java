package dev.unmask.nn.onnx;

import ai.onnx.proto.OnnxMl;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.TransformerBlocks;
import org.tribuo.util.onnx.*;

import java.util.*;

/**
 * Builds an ONNX model with Tribuo's graph writer ({@link ONNXContext}) plus {@link OnnxOps}, and
 * spells out the same blocks as {@link TransformerBlocks} (pre-LN encoder layer, LayerNorm with
 * epsilon {@value TransformerBlocks#LN_EPS}, GELU as x * sigmoid(1.702 x)) so an exported graph
 * computes exactly what the SameDiff graph computes. Weights are read from named tensors, so no
 * ND4J is needed here.
 *
 * <p>Tribuo's context only declares 2-D float inputs and outputs; the real element types, shapes
 * and named dynamic axes given to {@link #input} / {@link #output} replace them when the model is
 * written.
 */
public final class OnnxGraph {
    public static final long IR_VERSION = 8;
    public static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT.getNumber();
    public static final int INT64 = OnnxMl.TensorProto.DataType.INT64.getNumber();
    public static final int BOOL = OnnxMl.TensorProto.DataType.BOOL.getNumber();

    private record Io(String name, int elemType, Object[] dims, String doc) {
    }

    private final ONNXContext ctx = new ONNXContext();
    private final Map<String, Safetensors.Tensor> weights;
    private final String source;
    private final List<Io> inputs = new ArrayList<>(), outputs = new ArrayList<>();
    private final Set<String> usedWeights = new TreeSet<>();

    /**
     * @param weights named tensors (row-major), as in a checkpoint's safetensors file
     * @param source  what they come from, for error messages
     */
    public OnnxGraph(Map<String, Safetensors.Tensor> weights, String source) {
        this.weights = weights;
        this.source = source;
    }

    /** A graph input; each dim is a Long (fixed) or a String (a named dynamic axis). */
    public ONNXPlaceholder input(String name, int elemType, String doc, Object... dims) {
        inputs.add(new Io(name, elemType, dims, doc));
        return ctx.floatInput(name, 1);
    }

    /** A graph output, bound to {@code value} through an Identity node. */
    public void output(ONNXRef<?> value, String name, int elemType, String doc, Object... dims) {
        outputs.add(new Io(name, elemType, dims, doc));
        value.assignTo(ctx.floatOutput(name, 1));
    }

    /** The named weight as an initializer, with its shape checked. */
    public ONNXInitializer weight(String name, long... expectedShape) {
        Safetensors.Tensor t = weights.get(name);
        if (t == null) throw new UnmaskException(source + ": tensor " + name + " is missing");
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new UnmaskException(source + ": tensor " + name + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        usedWeights.add(name);
        return floats(name, t.shape(), t.data());
    }

    public ONNXInitializer floats(String name, long[] shape, float[] data) {
        List<Integer> dims = new ArrayList<>();
        for (long s : shape) dims.add(Math.toIntExact(s));
        return ctx.floatTensor(name, dims, fb -> fb.put(data));
    }

    /** A 1-D INT64 constant. */
    public ONNXInitializer longs(String name, long... values) {
        return ctx.array(name, values);
    }

    /** A 0-d FLOAT constant. */
    public ONNXInitializer scalar(String name, float value) {
        return ctx.constant(name, value);
    }

    public ONNXNode op(ONNXOperator op, String out, Map<String, Object> attrs, ONNXRef<?>... in) {
        return ctx.operation(op, Arrays.asList(in), out, attrs);
    }

    public ONNXNode op(ONNXOperator op, String out, ONNXRef<?>... in) {
        return op(op, out, Map.of(), in);
    }

    /** y = x W + b with W [in, out], b [out] (named name.weight, name.bias); x [..., in]. */
    public ONNXRef<?> linear(ONNXRef<?> x, String name, long in, long out) {
        ONNXNode xw = op(OnnxOps.MATMUL, name + ".matmul", x, weight(name + ".weight", in, out));
        return op(ONNXOperators.ADD, name + ".out", xw, weight(name + ".bias", out));
    }

    /** LayerNorm over the last axis with name.gain / name.bias, epsilon {@value TransformerBlocks#LN_EPS}. */
    public ONNXRef<?> layerNorm(ONNXRef<?> x, String name, long d) {
        return op(OnnxOps.LAYER_NORMALIZATION, name + ".out", Map.of("axis", -1, "epsilon", (float) TransformerBlocks.LN_EPS),
                x, weight(name + ".gain", d), weight(name + ".bias", d));
    }

    /** x * sigmoid(1.702 x). */
    public ONNXRef<?> gelu(ONNXRef<?> x, String name) {
        ONNXNode scaled = op(ONNXOperators.MUL, name + ".scaled", x, scalar(name + ".scale", (float) TransformerBlocks.GELU_SIGMOID_SCALE));
        return op(ONNXOperators.MUL, name + ".out", x, op(ONNXOperators.SIGMOID, name + ".sigmoid", scaled));
    }

    /**
     * The pre-LN encoder layer of {@link TransformerBlocks#encoderLayer}: x + MHA(LN(x)), then
     * + MLP(LN(.)).
     *
     * @param x       [B, T, d]
     * @param keyBias [B, 1, 1, T]: 0 for keys that may be attended to, -1e9 for the others
     */
    public ONNXRef<?> encoderLayer(ONNXRef<?> x, ONNXRef<?> keyBias, String name, int d, int heads, int ffDim) {
        return encoderLayer(x, keyBias, null, name, d, heads, ffDim);
    }

    /** As above; with {@code rotary} non-null, queries and keys are rotated by position first. */
    public ONNXRef<?> encoderLayer(ONNXRef<?> x, ONNXRef<?> keyBias, Rotary rotary, String name, int d, int heads, int ffDim) {
        int dh = d / heads;
        ONNXRef<?> h = layerNorm(x, name + ".ln1", d);
        ONNXInitializer split = longs(name + ".split_shape", 0, 0, heads, dh);
        ONNXRef<?> q2 = linear(h, name + ".attn.q", d, d), k2 = linear(h, name + ".attn.k", d, d);
        if (rotary != null) {
            q2 = rotary.apply(this, q2, name + ".q_rope");
            k2 = rotary.apply(this, k2, name + ".k_rope");
        }
        ONNXRef<?> q = op(OnnxOps.TRANSPOSE, name + ".q_heads", Map.of("perm", new int[]{0, 2, 1, 3}),
                op(OnnxOps.RESHAPE, name + ".q_split", q2, split));
        ONNXRef<?> kT = op(OnnxOps.TRANSPOSE, name + ".k_heads_t", Map.of("perm", new int[]{0, 2, 3, 1}),
                op(OnnxOps.RESHAPE, name + ".k_split", k2, split));
        ONNXRef<?> v = op(OnnxOps.TRANSPOSE, name + ".v_heads", Map.of("perm", new int[]{0, 2, 1, 3}),
                op(OnnxOps.RESHAPE, name + ".v_split", linear(h, name + ".attn.v", d, d), split));
        ONNXRef<?> scores = op(ONNXOperators.MUL, name + ".scores_scaled", op(OnnxOps.MATMUL, name + ".scores", q, kT),
                scalar(name + ".attn_scale", (float) (1.0 / Math.sqrt(dh))));
        ONNXRef<?> attn = op(ONNXOperators.SOFTMAX, name + ".attn", Map.of("axis", -1), op(ONNXOperators.ADD, name + ".scores_masked", scores, keyBias));
        ONNXRef<?> ctxv = op(OnnxOps.RESHAPE, name + ".ctx", op(OnnxOps.TRANSPOSE, name + ".ctx_t", Map.of("perm", new int[]{0, 2, 1, 3}),
                op(OnnxOps.MATMUL, name + ".ctx_heads", attn, v)), longs(name + ".merge_shape", 0, 0, d));
        ONNXRef<?> x1 = op(ONNXOperators.ADD, name + ".resid1", x, linear(ctxv, name + ".attn.out", d, d));
        ONNXRef<?> h2 = layerNorm(x1, name + ".ln2", d);
        ONNXRef<?> ff = linear(gelu(linear(h2, name + ".mlp.in", d, ffDim), name + ".gelu"), name + ".mlp.out", ffDim, d);
        return op(ONNXOperators.ADD, name + ".resid2", x1, ff);
    }

    /**
     * {@link TransformerBlocks.Rotary} in ONNX: cos and sin [T, d] (tables for positions
     * 0..T-1, broadcast over the batch) and the constant rotate-half matrix [d, d].
     */
    public record Rotary(ONNXRef<?> cos, ONNXRef<?> sin, ONNXRef<?> rotate) {
        /** Tables for every position below maxLength, sliced along axis 0 to [zero, length). */
        public static Rotary of(OnnxGraph g, int maxLength, int d, int heads, ONNXRef<?> zero, ONNXRef<?> length, ONNXRef<?> axis0) {
            float[] freq = TransformerBlocks.Rotary.inverseFrequencies(d, heads);
            float[] cos = new float[maxLength * d], sin = new float[maxLength * d];
            for (int p = 0; p < maxLength; p++) {
                for (int c = 0; c < d; c++) {
                    float angle = (float) p * freq[c]; // the float product the SameDiff graph takes
                    cos[p * d + c] = (float) Math.cos(angle);
                    sin[p * d + c] = (float) Math.sin(angle);
                }
            }
            long[] shape = {maxLength, d};
            return new Rotary(g.op(OnnxOps.SLICE, "rope.cos", g.floats("rope.cos_table", shape, cos), zero, length, axis0),
                    g.op(OnnxOps.SLICE, "rope.sin", g.floats("rope.sin_table", shape, sin), zero, length, axis0),
                    g.floats("rope.rotate_half", new long[]{d, d}, TransformerBlocks.Rotary.rotateHalf(d, heads)));
        }

        ONNXRef<?> apply(OnnxGraph g, ONNXRef<?> x, String name) {
            ONNXRef<?> turned = g.op(OnnxOps.MATMUL, name + ".turned", x, rotate);
            return g.op(ONNXOperators.ADD, name, g.op(ONNXOperators.MUL, name + ".cos", x, cos), g.op(ONNXOperators.MUL, name + ".sin", turned, sin));
        }
    }

    /** [B, T] 0/1 float mask -> [B, 1, 1, T] additive bias: 0 where 1, -1e9 where 0 (exactly (m - 1) * 1e9). */
    public ONNXRef<?> keyBiasFromMask(ONNXRef<?> maskFloat) {
        ONNXNode minus = op(ONNXOperators.SUB, "key_bias.shifted", maskFloat, scalar("one", 1f));
        ONNXNode bias = op(ONNXOperators.MUL, "key_bias.flat", minus, scalar("big", 1e9f));
        return op(ONNXOperators.UNSQUEEZE, "key_bias", bias, longs("key_bias.axes", 1, 2));
    }

    /** Names of the weights the graph has read so far. */
    public Set<String> usedWeights() {
        return Collections.unmodifiableSet(usedWeights);
    }

    /** The serialised ModelProto: opset {@value OnnxOps#OPSET}, IR {@value #IR_VERSION}, with metadata_props. */
    public byte[] toBytes(String graphName, String doc, Map<String, String> metadata) {
        ctx.setName(graphName);
        OnnxMl.GraphProto.Builder g = ctx.buildGraph().toBuilder();
        for (int i = 0; i < g.getInputCount(); i++) g.setInput(i, valueInfo(find(inputs, g.getInput(i).getName())));
        for (int i = 0; i < g.getOutputCount(); i++) g.setOutput(i, valueInfo(find(outputs, g.getOutput(i).getName())));
        g.setDocString(doc);
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("unmask")
                .setProducerVersion("0.1.0")
                .setDocString(doc)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxOps.OPSET).build())
                .setGraph(g.build());
        new TreeMap<>(metadata).forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build()));
        return m.build().toByteArray();
    }

    private static Io find(List<Io> ios, String name) {
        return ios.stream().filter(io -> io.name().equals(name)).findFirst().orElseThrow(() -> new IllegalStateException("undeclared graph io " + name));
    }

    private static OnnxMl.ValueInfoProto valueInfo(Io io) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : io.dims()) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) dim.setDimParam(s);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        OnnxMl.TypeProto type = OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(io.elemType()).setShape(shape)).build();
        return OnnxMl.ValueInfoProto.newBuilder().setName(io.name()).setType(type).setDocString(io.doc()).build();
    }
}
