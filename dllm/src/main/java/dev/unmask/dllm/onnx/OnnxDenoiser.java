package dev.unmask.dllm.onnx;

import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.onnx.Ort;
import ai.onnxruntime.*;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Checksums;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.*;

/**
 * Bring your own dLLM: any masked diffusion LM exported to ONNX (token ids [batch, length] in,
 * logits [batch, length, vocab] out) becomes a {@link Denoiser}, described by a {@link DllmDescriptor}.
 * One {@link #predict} is one forward pass over the batch when the model takes an attention mask
 * (rows right-padded with pad_id, mask 1/0); without one, rows are grouped by length and each
 * group is one ORT call (still one environment step, one NFE per row); the descriptor's
 * max_logits_mb splits calls further so that no call's logits tensor exceeds it. The per-position statistics
 * (top-1 id and probability, top-2 probability, entropy) are computed in ONNX Runtime by
 * {@link OnnxStatistics}, chained onto the model's logits tensor, so a large vocabulary never
 * crosses into Java ({@link #valuesIntoJava} counts what does); they follow
 * {@link Predictions#fromLogits}'s definitions.
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class OnnxDenoiser implements Denoiser {
    private final DllmDescriptor d;
    private final OrtSession session;
    private final OrtEnvironment env;
    private final boolean idsAreInt64, maskIsInt64, maskIsBool;
    private final int vocabSize;
    private final String description;
    /** Per-position statistics computed in ONNX Runtime; null: from logits copied into Java. */
    private final OnnxStatistics statistics;
    /** -Dunmask.onnx.javaStatistics=true: copy logits into Java and take the statistics there (the path before; for benchmarks). */
    public static final String JAVA_STATISTICS_PROPERTY = "unmask.onnx.javaStatistics";
    /** -Dunmask.dllm.provider=cuda: run built-in checkpoints on ONNX Runtime's CUDA provider (needs the -Pcuda build). */
    public static final String PROVIDER_PROPERTY = "unmask.dllm.provider";
    private HfTokenizer tokenizer;
    /**
     * A built-in dLLM's export with its last hidden state as a second output, built on the first
     * {@link #predictWithHidden} (the plain export stays what {@link #predict} runs); null for a
     * foreign model, whose descriptor names its own hidden output.
     */
    private final java.util.function.Supplier<byte[]> hiddenVariant;
    private OrtSession hiddenSession;
    private float[] hiddenProjection;
    /** Logits copied out of ONNX Runtime into Java (the logits path and the Java statistics path). */
    private long logitsOut;

    public static OnnxDenoiser load(Path descriptor) {
        return new OnnxDenoiser(DllmDescriptor.load(descriptor));
    }

    public OnnxDenoiser(DllmDescriptor descriptor) {
        this(descriptor, null, null, null);
    }

    /**
     * A built-in checkpoint folder run by ONNX Runtime: its weights are exported to an ONNX graph
     * in memory (no file is written, no ND4J is loaded), with the attention mask, so rows of any
     * lengths share one call. The answers are those of the SameDiff model; confidences agree to
     * float rounding (about 1e-7).
     */
    public static OnnxDenoiser ofBuiltinCheckpoint(Path dir) {
        var c = DllmCheckpoint.read(dir);
        return ofBuiltin(c.config(), c.vocabulary(), c.weights(), c.description(), dir.resolve(DllmCheckpoint.WEIGHTS));
    }

    /**
     * The built-in architecture with these weights, exported in memory and run by ONNX Runtime.
     *
     * @param source what the weights come from, for messages
     */
    public static OnnxDenoiser ofBuiltin(DllmConfig config, Vocabulary vocab, Map<String, Safetensors.Tensor> weights,
                                         String description, Path source) {
        byte[] model = DllmOnnxExporter.onnxBytes(config, vocab.size(), weights, description, true);
        DllmDescriptor d = new DllmDescriptor(source, source, DllmOnnxExporter.INPUT_IDS, DllmOnnxExporter.ATTENTION_MASK, DllmOnnxExporter.LOGITS,
                vocab, null, config.maxLength(), System.getProperty(PROVIDER_PROPERTY, "cpu"), 0, 1, description);
        return new OnnxDenoiser(d, model, description + " (onnxruntime)",
                () -> DllmOnnxExporter.onnxBytes(config, vocab.size(), weights, description, true, true));
    }

    /** @param modelBytes the model itself, or null to load descriptor.onnx(); description null = derived from the file */
    private OnnxDenoiser(DllmDescriptor descriptor, byte[] modelBytes, String description, java.util.function.Supplier<byte[]> hiddenVariant) {
        this.d = descriptor;
        this.hiddenVariant = hiddenVariant;
        this.vocabSize = descriptor.vocabulary().size();
        String where = "ONNX dLLM " + descriptor.onnx().getFileName() + " (descriptor " + descriptor.file() + ")";
        this.env = Ort.env();
        // a model from a file: no memory pattern, so the arena keeps one region of the logits' size, not two (Ort.open)
        this.session = modelBytes == null ? Ort.open(descriptor.onnx(), descriptor.provider(), descriptor.deviceId(), descriptor.threads(), where, false)
                : Ort.open(modelBytes, descriptor.provider(), descriptor.deviceId(), descriptor.threads(), where);
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo(), outputs = session.getOutputInfo();
            TensorInfo ids = tensor(inputs, descriptor.inputIds(), "input", "input_ids", where);
            if (ids.type != OnnxJavaType.INT64 && ids.type != OnnxJavaType.INT32) {
                throw new UnmaskException(where + ": input '" + descriptor.inputIds() + "' has type " + ids.type + ", expected INT64 or INT32 token ids");
            }
            if (ids.getShape().length != 2) {
                throw new UnmaskException(where + ": input '" + descriptor.inputIds() + "' has shape " + Arrays.toString(ids.getShape()) + ", expected [batch, length]");
            }
            idsAreInt64 = ids.type == OnnxJavaType.INT64;
            if (descriptor.attentionMask() != null) {
                TensorInfo m = tensor(inputs, descriptor.attentionMask(), "input", "attention_mask", where);
                maskIsInt64 = m.type == OnnxJavaType.INT64;
                maskIsBool = m.type == OnnxJavaType.BOOL;
                if (!maskIsInt64 && !maskIsBool && m.type != OnnxJavaType.INT32) {
                    throw new UnmaskException(where + ": input '" + descriptor.attentionMask() + "' has type " + m.type + ", expected INT64, INT32 or BOOL");
                }
            } else {
                maskIsInt64 = maskIsBool = false;
            }
            for (String in : inputs.keySet()) {
                if (!in.equals(descriptor.inputIds()) && !in.equals(descriptor.attentionMask())) {
                    throw new UnmaskException(where + ": the model needs input '" + in + "' that the descriptor does not name (it names input_ids='"
                            + descriptor.inputIds() + "'" + (descriptor.attentionMask() == null ? "" : ", attention_mask='" + descriptor.attentionMask() + "'") + ")");
                }
            }
            TensorInfo out = tensor(outputs, descriptor.logits(), "output", "logits", where);
            if (out.type != OnnxJavaType.FLOAT && out.type != OnnxJavaType.FLOAT16 && out.type != OnnxJavaType.BFLOAT16) {
                throw new UnmaskException(where + ": output '" + descriptor.logits() + "' has type " + out.type + ", expected FLOAT logits");
            }
            long[] shape = out.getShape();
            if (shape.length != 3) {
                throw new UnmaskException(where + ": output '" + descriptor.logits() + "' has shape " + Arrays.toString(shape) + ", expected [batch, length, vocab]");
            }
            if (shape[2] > 0 && shape[2] != vocabSize) throw vocabMismatch(shape[2]);
            if (descriptor.hidden() != null) {
                TensorInfo h = tensor(outputs, descriptor.hidden(), "output", "hidden", where);
                if (h.type != OnnxJavaType.FLOAT || h.getShape().length != 3) {
                    throw new UnmaskException(where + ": output '" + descriptor.hidden() + "' is " + h.type + " " + Arrays.toString(h.getShape())
                            + ", expected the FLOAT [batch, length, hidden] last hidden state");
                }
                hiddenSession = session;
            }
            // statistics in ONNX Runtime when the logits are float32 (others are converted in Java)
            this.statistics = out.type == OnnxJavaType.FLOAT && !Boolean.getBoolean(JAVA_STATISTICS_PROPERTY)
                    ? new OnnxStatistics(vocabSize, descriptor.vocabulary().maskId(), descriptor.provider(), descriptor.deviceId(), descriptor.threads()) : null;
        } catch (OrtException e) {
            close();
            throw new UnmaskException(where + ": " + Ort.firstLine(e.getMessage()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.description = description != null ? description
                : "onnx:" + descriptor.description() + " sha256=" + Checksums.sha256(descriptor.onnx()).substring(0, 16);
    }

    private UnmaskException vocabMismatch(long modelVocab) {
        return new UnmaskException("vocabulary mismatch: ONNX output '" + d.logits() + "' of " + d.onnx().getFileName() + " has " + modelVocab
                + " entries on its vocab axis but descriptor " + d.file() + " gives " + vocabSize + " tokens (set vocab_size if the model pads its vocabulary)");
    }

    private static TensorInfo tensor(Map<String, NodeInfo> infos, String name, String kind, String field, String where) {
        NodeInfo n = infos.get(name);
        if (n == null) {
            throw new UnmaskException(where + ": the descriptor's " + field + " names " + kind + " '" + name + "', but the model's " + kind + "s are " + infos.keySet());
        }
        if (!(n.getInfo() instanceof TensorInfo t)) throw new UnmaskException(where + ": " + kind + " '" + name + "' is not a tensor");
        return t;
    }

    public DllmDescriptor descriptor() {
        return d;
    }

    @Override
    public Vocabulary vocabulary() {
        return d.vocabulary();
    }

    @Override
    public int maxLength() {
        return d.maxLength();
    }

    @Override
    public String describe() {
        return description;
    }

    /**
     * How many values (floats and token ids) this denoiser has copied out of ONNX Runtime into Java
     * since it was opened. With the statistics in ONNX Runtime (float32 logits), a step adds 5 per
     * queried position (entropy, the top-2 probabilities and their ids) whatever the vocabulary,
     * plus vocab per queried position when distributions are asked for; {@link #logits} and the
     * Java statistics path add the whole [rows, length, vocab] tensor.
     */
    public long valuesIntoJava() {
        return logitsOut + (statistics == null ? 0 : statistics.valuesOut());
    }

    /** How many ORT calls of the model one {@link #predict} on these sequences makes. */
    public int callsPerStep(int[][] sequences) {
        return calls(sequences).size();
    }

    /** The most rows any of those calls runs. */
    public int largestCallRows(int[][] sequences) {
        int most = 0;
        for (int[] c : calls(sequences)) most = Math.max(most, c.length);
        return most;
    }

    /** Whether the per-position statistics are computed in ONNX Runtime (false: from logits copied into Java). */
    public boolean statisticsInOnnxRuntime() {
        return statistics != null;
    }

    /** The descriptor's HuggingFace tokenizer, loaded on first use; empty when it names none. */
    public Optional<HfTokenizer> tokenizer() {
        if (tokenizer == null && d.tokenizer() != null) tokenizer = HfTokenizer.load(d.tokenizer());
        return Optional.ofNullable(tokenizer);
    }

    @Override
    public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
        return predict(sequences, query, withDistributions, false);
    }

    /**
     * With the last hidden state's features ({@link HiddenFeatures}): a built-in dLLM runs its
     * export with the hidden state as a second output; a foreign one needs the descriptor's
     * {@code hidden} output. The hidden states ([rows, length, H] floats) cross into Java and are
     * projected there.
     */
    @Override
    public Predictions predictWithHidden(int[][] sequences, boolean[][] query, boolean withDistributions) {
        return predict(sequences, query, withDistributions, true);
    }

    private String hiddenOutput() {
        return d.hidden() != null ? d.hidden() : DllmOnnxExporter.HIDDEN;
    }

    private OrtSession hiddenSession() {
        if (hiddenSession != null) return hiddenSession;
        if (hiddenVariant == null) {
            throw new UnmaskException("the dLLM " + description + " offers no hidden-state features: name its last hidden state output in the descriptor's 'hidden' field");
        }
        hiddenSession = Ort.open(hiddenVariant.get(), d.provider(), d.deviceId(), d.threads(), "the built-in dLLM's export with its hidden state");
        return hiddenSession;
    }

    private Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions, boolean withHidden) {
        Denoiser.validate(this, sequences, query);
        int rows = sequences.length, maxLen = 0;
        for (int[] s : sequences) maxLen = Math.max(maxLen, s.length);
        if (withHidden && statistics == null) {
            throw new UnmaskException("the dLLM " + description + ": hidden-state features need the statistics in ONNX Runtime (float32 logits, without -D" + JAVA_STATISTICS_PROPERTY + ")");
        }
        OrtSession run = withHidden ? hiddenSession() : session;
        if (statistics == null) return Predictions.fromLogits(logits(sequences), maxLen, vocabSize, query, withDistributions, vocabulary().maskId());
        float[][] hidden = withHidden ? new float[rows][] : null;
        int[][] top1 = new int[rows][];
        float[][] conf = new float[rows][], top2 = new float[rows][], ent = new float[rows][];
        float[][][] dist = withDistributions ? new float[rows][][] : null;
        for (int b = 0; b < rows; b++) {
            int len = sequences[b].length;
            top1[b] = new int[len];
            Arrays.fill(top1[b], -1);
            conf[b] = nans(len);
            top2[b] = nans(len);
            ent[b] = nans(len);
            if (dist != null) dist[b] = new float[len][];
        }
        for (int[] call : calls(sequences)) {
            int len = 0;
            int[] lengths = new int[call.length];
            for (int r = 0; r < call.length; r++) {
                lengths[r] = sequences[call[r]].length;
                len = Math.max(len, lengths[r]);
            }
            Map<String, OnnxTensor> in = inputs(sequences, call, len);
            try (OrtSession.Result res = run.run(in, withHidden ? Set.of(d.logits(), hiddenOutput()) : Set.of(d.logits()))) {
                OnnxTensor t = checkedLogits(res, call.length, len);
                statistics.compute(env, t, call, lengths, query, top1, conf, top2, ent, dist);
                if (withHidden) projectHidden((OnnxTensor) res.get(hiddenOutput()).orElseThrow(), call, lengths, len, hidden);
            } catch (OrtException e) {
                throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": " + Ort.firstLine(e.getMessage()));
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
        return new Predictions(top1, conf, top2, ent, dist, hidden);
    }

    /** Each row's tokens' hidden states [n, len, H] projected to {@link HiddenFeatures#WIDTH} numbers. */
    private void projectHidden(OnnxTensor t, int[] call, int[] lengths, int len, float[][] hidden) {
        long[] s = t.getInfo().getShape();
        if (s.length != 3 || s[0] != call.length || s[1] != len) {
            throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": output '" + hiddenOutput() + "' has shape " + Arrays.toString(s)
                    + " for input [" + call.length + ", " + len + "], expected [" + call.length + ", " + len + ", hidden]");
        }
        int h = (int) s[2], w = HiddenFeatures.WIDTH;
        if (hiddenProjection == null || hiddenProjection.length != h * w) hiddenProjection = HiddenFeatures.projection(h);
        FloatBuffer fb = t.getFloatBuffer();
        float[] row = new float[h];
        for (int r = 0; r < call.length; r++) {
            hidden[call[r]] = new float[lengths[r] * w];
            for (int i = 0; i < lengths[r]; i++) {
                fb.position((r * len + i) * h);
                fb.get(row, 0, h);
                HiddenFeatures.project(row, 0, h, hiddenProjection, hidden[call[r]], i * w);
            }
        }
        logitsOut += (long) call.length * len * h;
    }

    private static float[] nans(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /**
     * Raw logits, flat [rows x maxLen x vocab], rows right-padded to the longest; what lies past a
     * row's own length is unspecified. rows x maxLen x vocab must stay below 2^31.
     */
    public float[] logits(int[][] sequences) {
        int rows = sequences.length, maxLen = 0;
        for (int[] s : sequences) maxLen = Math.max(maxLen, s.length);
        long size = (long) rows * maxLen * vocabSize;
        if (size > Integer.MAX_VALUE - 8) {
            throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": logits of " + rows + " rows x " + maxLen + " tokens x " + vocabSize
                    + " entries exceed a Java array (2^31); use fewer rows per batch");
        }
        List<int[]> calls = calls(sequences);
        if (calls.size() == 1 && d.attentionMask() != null) return run(sequences, calls.get(0), maxLen, null, maxLen); // one call: ORT's copy is the result, no second copy
        float[] out = new float[(int) size];
        for (int[] call : calls) run(sequences, call, longest(sequences, call), out, maxLen);
        return out;
    }

    private static int longest(int[][] sequences, int[] rows) {
        int len = 0;
        for (int r : rows) len = Math.max(len, sequences[r].length);
        return len;
    }

    /**
     * The rows of each ORT call: all of them when the model takes an attention mask, else one call
     * per length; with the descriptor's max_logits_mb, each of those split into consecutive groups
     * whose logits tensor (rows x length x vocab float32) stays within the budget, at least one row
     * a call.
     */
    private List<int[]> calls(int[][] sequences) {
        List<int[]> groups = new ArrayList<>();
        if (d.attentionMask() != null) {
            groups.add(java.util.stream.IntStream.range(0, sequences.length).toArray());
        } else {
            Map<Integer, List<Integer>> byLength = new TreeMap<>();
            for (int i = 0; i < sequences.length; i++) byLength.computeIfAbsent(sequences[i].length, k -> new ArrayList<>()).add(i);
            for (List<Integer> g : byLength.values()) groups.add(g.stream().mapToInt(Integer::intValue).toArray());
        }
        if (d.maxLogitsMb() <= 0) return groups;
        long budget = (long) d.maxLogitsMb() << 20;
        List<int[]> calls = new ArrayList<>();
        for (int[] g : groups) {
            long rowBytes = (long) longest(sequences, g) * vocabSize * Float.BYTES;
            int per = (int) Math.max(1, Math.min(g.length, budget / rowBytes));
            for (int from = 0; from < g.length; from += per) calls.add(Arrays.copyOfRange(g, from, Math.min(g.length, from + per)));
        }
        return calls;
    }

    /**
     * Runs the given rows padded to len and writes their logits into out (a [rows x outLen x vocab]
     * buffer); with out == null, returns the call's own [n x len x vocab] logits.
     */
    private float[] run(int[][] sequences, int[] rows, int len, float[] out, int outLen) {
        int n = rows.length;
        Map<String, OnnxTensor> in = inputs(sequences, rows, len);
        try (OrtSession.Result res = session.run(in)) {
            OnnxTensor t = checkedLogits(res, n, len);
            FloatBuffer fb = t.getFloatBuffer();
            logitsOut += fb.remaining();
            if (out == null) {
                if (fb.hasArray() && fb.arrayOffset() == 0 && fb.array().length == n * len * vocabSize) return fb.array();
                float[] all = new float[n * len * vocabSize];
                fb.get(all);
                return all;
            }
            int block = len * vocabSize;
            float[] tmp = new float[block];
            for (int r = 0; r < n; r++) {
                fb.position(r * block);
                fb.get(tmp, 0, block);
                // only the row's own positions matter; the rest of its slot stays zero
                System.arraycopy(tmp, 0, out, rows[r] * outLen * vocabSize, sequences[rows[r]].length * vocabSize);
            }
            return out;
        } catch (OrtException e) {
            throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": " + Ort.firstLine(e.getMessage()));
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /** The logits output of a call on n rows of length len, its shape checked. */
    private OnnxTensor checkedLogits(OrtSession.Result res, int n, int len) {
        OnnxTensor t = (OnnxTensor) res.get(d.logits()).orElseThrow();
        long[] s = t.getInfo().getShape();
        if (s.length != 3 || s[0] != n || s[1] != len) {
            throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": output '" + d.logits() + "' has shape " + Arrays.toString(s)
                    + " for input [" + n + ", " + len + "], expected [" + n + ", " + len + ", vocab]");
        }
        if (s[2] != vocabSize) throw vocabMismatch(s[2]);
        return t;
    }

    /** The model's inputs for the given rows padded to len (the caller closes them). */
    private Map<String, OnnxTensor> inputs(int[][] sequences, int[] rows, int len) {
        int n = rows.length;
        long[] shape = {n, len};
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            if (idsAreInt64) {
                long[] ids = new long[n * len];
                Arrays.fill(ids, d.vocabulary().padId());
                for (int r = 0; r < n; r++) for (int t = 0; t < sequences[rows[r]].length; t++) ids[r * len + t] = sequences[rows[r]][t];
                in.put(d.inputIds(), OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            } else {
                int[] ids = new int[n * len];
                Arrays.fill(ids, d.vocabulary().padId());
                for (int r = 0; r < n; r++) System.arraycopy(sequences[rows[r]], 0, ids, r * len, sequences[rows[r]].length);
                in.put(d.inputIds(), OnnxTensor.createTensor(env, IntBuffer.wrap(ids), shape));
            }
            if (d.attentionMask() != null) {
                if (maskIsBool) {
                    boolean[][] m = new boolean[n][len];
                    for (int r = 0; r < n; r++) Arrays.fill(m[r], 0, sequences[rows[r]].length, true);
                    in.put(d.attentionMask(), OnnxTensor.createTensor(env, m));
                } else if (maskIsInt64) {
                    long[] m = new long[n * len];
                    for (int r = 0; r < n; r++) Arrays.fill(m, r * len, r * len + sequences[rows[r]].length, 1L);
                    in.put(d.attentionMask(), OnnxTensor.createTensor(env, LongBuffer.wrap(m), shape));
                } else {
                    int[] m = new int[n * len];
                    for (int r = 0; r < n; r++) Arrays.fill(m, r * len, r * len + sequences[rows[r]].length, 1);
                    in.put(d.attentionMask(), OnnxTensor.createTensor(env, IntBuffer.wrap(m), shape));
                }
            }
            return in;
        } catch (OrtException e) {
            in.values().forEach(OnnxTensor::close);
            throw new UnmaskException("ONNX dLLM " + d.onnx().getFileName() + ": " + Ort.firstLine(e.getMessage()));
        }
    }

    @Override
    public void close() {
        if (statistics != null) statistics.close();
        try {
            if (hiddenSession != null && hiddenSession != session) hiddenSession.close();
        } catch (OrtException e) {
            // nothing to release
        }
        try {
            if (session != null) session.close();
        } catch (OrtException e) {
            // closing twice or after a failed load: nothing to release
        }
        if (tokenizer != null) tokenizer.close();
    }
}
