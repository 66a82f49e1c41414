package dev.unmask.policy.onnx;

import dev.unmask.policy.export.DecodingContract;
import dev.unmask.env.io.Json;
import dev.unmask.policy.PolicyConfig;
import ai.onnxruntime.*;
import dev.unmask.env.UnmaskException;
import dev.unmask.nn.onnx.Ort;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.PolicyProvenance;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.*;

/**
 * An exported policy (see {@link OnnxExporter}) opened in ONNX Runtime: window features and
 * eligibility in, one logit per position out. Uses no ND4J. Not thread-safe.
 */
public final class OnnxPolicyModel implements AutoCloseable {
    private final OrtSession session;
    private final OrtEnvironment env = Ort.env();
    private final List<PolicyFeatures> features;
    private final int maxPositions;
    private final boolean wholeBuffer;
    private final PolicyProvenance provenance;
    private final DecodingContract contract;
    private final Path file;

    public static OnnxPolicyModel load(Path onnx) {
        return load(onnx, "cpu", 1);
    }

    public static OnnxPolicyModel load(Path onnx, String provider, int threads) {
        return new OnnxPolicyModel(onnx, Ort.open(onnx, provider, 0, threads, "policy " + onnx));
    }

    private OnnxPolicyModel(Path file, OrtSession session) {
        this.file = file;
        this.session = session;
        String where = "policy " + file;
        try {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            String names = meta.get(OnnxExporter.META_FEATURES);
            if (names == null) throw new UnmaskException(where + ": not an unmask policy export (no " + OnnxExporter.META_FEATURES + " metadata)");
            this.features = PolicyFeatures.parse(List.of(names.split(",")));
            this.maxPositions = Integer.parseInt(meta.getOrDefault(OnnxExporter.META_MAX_POSITIONS, "0"));
            String config = meta.get(OnnxExporter.META_CONFIG);
            this.wholeBuffer = config != null && Json.MAPPER.readValue(config, PolicyConfig.class).seesWholeBuffer();
            this.provenance = PolicyProvenance.fromMetadata(meta, OnnxExporter.META_PROVENANCE, where);
            this.contract = DecodingContract.fromMetadata(meta, "unmask.", where);
            Set<String> in = session.getInputNames(), out = session.getOutputNames();
            for (String n : List.of(OnnxExporter.FEATURES, OnnxExporter.ELIGIBLE)) {
                if (!in.contains(n)) throw new UnmaskException(where + ": the model has no input '" + n + "' (inputs: " + in + ")");
            }
            if (!out.contains(OnnxExporter.LOGITS)) throw new UnmaskException(where + ": the model has no output '" + OnnxExporter.LOGITS + "' (outputs: " + out + ")");
            long[] shape = ((TensorInfo) session.getInputInfo().get(OnnxExporter.FEATURES).getInfo()).getShape();
            if (shape.length != 3 || shape[2] != features.size()) {
                throw new UnmaskException(where + ": input 'features' has shape " + Arrays.toString(shape) + " but the metadata names " + features.size() + " features");
            }
        } catch (OrtException | NumberFormatException | java.io.IOException e) {
            close();
            throw new UnmaskException(where + ": " + Ort.firstLine(e.getMessage()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The per-position inputs the policy reads, in order (the last axis of 'features'). */
    public List<PolicyFeatures> features() {
        return features;
    }

    /** Whether the policy sees the whole generation buffer (its window is the buffer, not the active block). */
    public boolean seesWholeBuffer() {
        return wholeBuffer;
    }

    /** The widest window the model's position table covers. */
    public int maxPositions() {
        return maxPositions;
    }

    /** Where the exported policy came from (its metadata_props), or empty for an export without provenance. */
    public Optional<PolicyProvenance> provenance() {
        return Optional.ofNullable(provenance);
    }

    /** What the export says an engine needs: the dLLM's mask/EOS ids and vocabulary size, trained lengths, knob range (null where not recorded). */
    public DecodingContract contract() {
        return contract;
    }

    public Path file() {
        return file;
    }

    /**
     * @param features [rows * width * F], @param eligible [rows * width] (1/0)
     * @return logits [rows * width], -infinity where not eligible
     */
    public float[] logits(float[] features, float[] eligible, int rows, int width) {
        if (width > maxPositions) throw new UnmaskException("policy " + file + ": a window of " + width + " positions exceeds the exported maximum " + maxPositions);
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put(OnnxExporter.FEATURES, OnnxTensor.createTensor(env, FloatBuffer.wrap(features), new long[]{rows, width, this.features.size()}));
            in.put(OnnxExporter.ELIGIBLE, OnnxTensor.createTensor(env, FloatBuffer.wrap(eligible), new long[]{rows, width}));
            try (OrtSession.Result r = session.run(in, Set.of(OnnxExporter.LOGITS))) {
                FloatBuffer fb = ((OnnxTensor) r.get(OnnxExporter.LOGITS).orElseThrow()).getFloatBuffer();
                float[] out = new float[rows * width];
                fb.get(out);
                return out;
            }
        } catch (OrtException e) {
            throw new UnmaskException("policy " + file + ": " + Ort.firstLine(e.getMessage()));
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /** Both outputs: unmask_prob and logits, each [rows * width]. */
    public float[][] probabilitiesAndLogits(float[] features, float[] eligible, int rows, int width) {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put(OnnxExporter.FEATURES, OnnxTensor.createTensor(env, FloatBuffer.wrap(features), new long[]{rows, width, this.features.size()}));
            in.put(OnnxExporter.ELIGIBLE, OnnxTensor.createTensor(env, FloatBuffer.wrap(eligible), new long[]{rows, width}));
            try (OrtSession.Result r = session.run(in)) {
                float[] p = new float[rows * width], l = new float[rows * width];
                ((OnnxTensor) r.get(OnnxExporter.UNMASK_PROB).orElseThrow()).getFloatBuffer().get(p);
                ((OnnxTensor) r.get(OnnxExporter.LOGITS).orElseThrow()).getFloatBuffer().get(l);
                return new float[][]{p, l};
            }
        } catch (OrtException e) {
            throw new UnmaskException("policy " + file + ": " + Ort.firstLine(e.getMessage()));
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
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
