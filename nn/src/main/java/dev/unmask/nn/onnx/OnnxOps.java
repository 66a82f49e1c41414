package dev.unmask.nn.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXOperator;

import java.util.*;

/**
 * The ONNX operators Tribuo's {@code ONNXOperators} enum lacks (MatMul, Reshape, Transpose,
 * LayerNormalization, Shape, Slice), added through Tribuo's public {@link ONNXOperator} interface.
 * Semantics are those of the default ONNX domain at opset {@value #OPSET}, the opset our exported
 * models import (LayerNormalization needs 17).
 */
public enum OnnxOps implements ONNXOperator {
    MATMUL("MatMul", 2, 0, List.of()),
    /** Reshape(data, shape): a 0 in shape copies the input's dimension. */
    RESHAPE("Reshape", 2, 0, List.of(new ONNXAttribute("allowzero", AttributeType.INT, false))),
    TRANSPOSE("Transpose", 1, 0, List.of(new ONNXAttribute("perm", AttributeType.INTS, true))),
    /** LayerNormalization(X, Scale, B) over axis..last: (x - mean) / sqrt(var + epsilon) * Scale + B. */
    LAYER_NORMALIZATION("LayerNormalization", 2, 1, List.of(
            new ONNXAttribute("axis", AttributeType.INT, false),
            new ONNXAttribute("epsilon", AttributeType.FLOAT, false),
            new ONNXAttribute("stash_type", AttributeType.INT, false))),
    /** Shape(data) with the opset-15 start/end attributes: a 1-D INT64 slice of the shape. */
    SHAPE("Shape", 1, 0, List.of(
            new ONNXAttribute("start", AttributeType.INT, false),
            new ONNXAttribute("end", AttributeType.INT, false))),
    /** Slice(data, starts, ends, axes?, steps?). */
    SLICE("Slice", 3, 2, List.of());

    /** The opset version of the default domain that exported models import. */
    public static final int OPSET = 17;

    private final String opName;
    private final int numInputs, numOptionalInputs;
    private final Map<String, ONNXAttribute> attributes;
    private final Set<String> mandatory;

    OnnxOps(String opName, int numInputs, int numOptionalInputs, List<ONNXAttribute> attributes) {
        this.opName = opName;
        this.numInputs = numInputs;
        this.numOptionalInputs = numOptionalInputs;
        Map<String, ONNXAttribute> map = new LinkedHashMap<>();
        Set<String> req = new LinkedHashSet<>();
        for (ONNXAttribute a : attributes) {
            map.put(a.getName(), a);
            if (a.isMandatory()) req.add(a.getName());
        }
        this.attributes = Collections.unmodifiableMap(map);
        this.mandatory = Collections.unmodifiableSet(req);
    }

    @Override
    public String getOpName() {
        return opName;
    }

    @Override
    public int getNumInputs() {
        return numInputs;
    }

    @Override
    public int getNumOptionalInputs() {
        return numOptionalInputs;
    }

    @Override
    public int getNumOutputs() {
        return 1;
    }

    @Override
    public Map<String, ONNXAttribute> getAttributes() {
        return attributes;
    }

    @Override
    public Set<String> getMandatoryAttributeNames() {
        return mandatory;
    }

    @Override
    public int getOpVersion() {
        return OPSET;
    }

    @Override
    public String getOpDomain() {
        return null;
    }
}
