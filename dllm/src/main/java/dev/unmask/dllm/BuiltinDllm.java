package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.GraphWeights;
import dev.unmask.nn.TransformerBlocks;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/**
 * The project's own dLLM: token + learned position embeddings, pre-LN bidirectional encoder
 * layers (no causal mask; optionally with rotary positions in attention), final LayerNorm and a
 * linear head to vocabulary logits. Padding keys
 * are masked out of attention so rows of different lengths can share a batch.
 *
 * <p>Not thread-safe: one instance per thread (each sweep worker loads its own).
 */
public final class BuiltinDllm implements Denoiser {
    public static final String TOKENS = "tokens", POSITIONS = "positions", KEY_BIAS = "keyBias", LOGITS = "logits";
    public static final String TARGETS = "targets", WEIGHTS = "weights", LOSS = "loss";

    private final DllmConfig config;
    private final Vocabulary vocab;
    private final SameDiff sd;
    private String description;

    public BuiltinDllm(DllmConfig config, Vocabulary vocab) {
        this.config = config;
        this.vocab = vocab;
        this.sd = buildGraph(config, vocab);
        this.description = config.label();
    }

    /** Amplitude of the Fourier digit features: well above the N(0, 0.02^2) of every other entry. */
    static final double FOURIER_DIGIT_SCALE = 0.1;

    private static SameDiff buildGraph(DllmConfig c, Vocabulary v) {
        SameDiff sd = SameDiff.create();
        int vocab = v.size();
        Random rng = new Random(c.initSeed());
        SDVariable tokens = sd.placeHolder(TOKENS, DataType.INT, -1, -1);
        SDVariable positions = sd.placeHolder(POSITIONS, DataType.INT, -1, -1);
        SDVariable keyBias = sd.placeHolder(KEY_BIAS, DataType.FLOAT, -1, 1, 1, -1);
        SDVariable shapeBT = sd.shape(tokens).castTo(DataType.LONG);
        SDVariable tokEmb = TransformerBlocks.normal(sd, "embed.tokens", rng, 0.02, vocab, c.dModel());
        if (c.fourierDigits()) writeFourierDigits(tokEmb.getArr(), v);
        // one-hot times table rather than gather: SameDiff M2.1 cannot differentiate two gathers in one graph
        SDVariable x = sd.oneHot(sd.reshape(tokens, -1), vocab).castTo(DataType.FLOAT).mmul(tokEmb);
        if (!c.rotaryOnly()) {
            SDVariable posEmb = TransformerBlocks.normal(sd, "embed.positions", rng, 0.02, c.maxLength(), c.dModel());
            x = x.add(sd.oneHot(sd.reshape(positions, -1), c.maxLength()).castTo(DataType.FLOAT).mmul(posEmb));
        }
        TransformerBlocks.Rotary rotary = c.rotary()
                ? TransformerBlocks.Rotary.of(sd, "rope", sd.reshape(positions, -1, 1).castTo(DataType.FLOAT), c.dModel(), c.heads()) : null;
        for (int l = 0; l < c.layers(); l++) {
            x = TransformerBlocks.encoderLayer(sd, "layer" + l, x, shapeBT, keyBias, rotary, c.dModel(), c.heads(), c.ffDim(), rng);
        }
        x = TransformerBlocks.layerNorm(sd, "final_ln", x, c.dModel());
        SDVariable logits2d = TransformerBlocks.linear(sd, "head", x, c.dModel(), vocab, rng);
        SDVariable shape3 = sd.concat(0, shapeBT, sd.constant(Nd4j.createFromArray((long) vocab)));
        sd.reshape(LOGITS, logits2d, shape3);

        // Training loss: weighted cross-entropy on flattened positions; weights carry 1/t and the normaliser.
        SDVariable targets = sd.placeHolder(TARGETS, DataType.INT, -1);
        SDVariable weights = sd.placeHolder(WEIGHTS, DataType.FLOAT, -1);
        SDVariable logProbs = sd.nn().logSoftmax(logits2d);
        SDVariable nll = sd.oneHot(targets, vocab).castTo(DataType.FLOAT).mul(logProbs).sum(1).neg();
        sd.sum(LOSS, nll.mul(weights));
        sd.setLossVariables(LOSS);
        return sd;
    }

    /** Columns 2k-2 and 2k-1 (k = 1..5) of digit d's row become a cos and a sin of 2 pi k d / 10. */
    static void writeFourierDigits(INDArray table, Vocabulary v) {
        for (int d = 0; d <= 9; d++) {
            int row = v.encode(String.valueOf(d))[0];
            for (int k = 1; k <= 5; k++) {
                double angle = 2 * Math.PI * k * d / 10;
                table.putScalar(row, 2L * k - 2, FOURIER_DIGIT_SCALE * Math.cos(angle));
                table.putScalar(row, 2L * k - 1, FOURIER_DIGIT_SCALE * Math.sin(angle));
            }
        }
    }

    SameDiff graph() {
        return sd;
    }

    public DllmConfig config() {
        return config;
    }

    @Override
    public Vocabulary vocabulary() {
        return vocab;
    }

    @Override
    public int maxLength() {
        return config.maxLength();
    }

    @Override
    public String describe() {
        return description;
    }

    void setDescription(String description) {
        this.description = description;
    }

    public long parameterCount() {
        return GraphWeights.parameterCount(sd);
    }

    List<SDVariable> trainableVariables() {
        return GraphWeights.trainable(sd);
    }

    /** Placeholders for a right-padded batch. */
    static Map<String, INDArray> inputs(int[][] sequences, int padId) {
        int rows = sequences.length, maxLen = 0;
        int[] lengths = new int[rows];
        for (int b = 0; b < rows; b++) {
            lengths[b] = sequences[b].length;
            maxLen = Math.max(maxLen, lengths[b]);
        }
        int[] tok = new int[rows * maxLen], pos = new int[rows * maxLen];
        for (int b = 0; b < rows; b++) {
            Arrays.fill(tok, b * maxLen, (b + 1) * maxLen, padId);
            System.arraycopy(sequences[b], 0, tok, b * maxLen, lengths[b]);
            for (int t = 0; t < maxLen; t++) pos[b * maxLen + t] = t;
        }
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(TOKENS, Nd4j.createFromArray(tok).reshape(rows, maxLen));
        ph.put(POSITIONS, Nd4j.createFromArray(pos).reshape(rows, maxLen));
        ph.put(KEY_BIAS, Nd4j.create(TransformerBlocks.keyBias(lengths, maxLen), new long[]{rows, 1, 1, maxLen}, 'c'));
        return ph;
    }

    /** Raw logits, flat [rows x maxLen x vocab], rows right-padded to the longest. */
    public float[] logits(int[][] sequences) {
        INDArray out = sd.output(inputs(sequences, vocab.padId()), LOGITS).get(LOGITS);
        return out.dup('c').data().asFloat();
    }

    @Override
    public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
        Denoiser.validate(this, sequences, query);
        int maxLen = 0;
        for (int[] s : sequences) maxLen = Math.max(maxLen, s.length);
        return Predictions.fromLogits(logits(sequences), maxLen, vocab.size(), query, withDistributions, vocab.maskId());
    }

    /** Current weights, by parameter name. */
    public Map<String, Safetensors.Tensor> weights() {
        return GraphWeights.read(sd);
    }

    /** Head bias of tokens a widened vocabulary appends: their probability is exp(-30) relative, never chosen. */
    static final float NEW_TOKEN_HEAD_BIAS = -30f;

    /**
     * The same model over a vocabulary that appends tokens to this one (a new task's prompt token), so
     * a trained model can be fine-tuned on a task it has not seen. Every learned weight is kept; the new
     * tokens' embedding rows come from a fresh model's initialisation (same seed), and the head never
     * predicts them (zero weights, bias {@value #NEW_TOKEN_HEAD_BIAS}): a prompt token is never a target,
     * so the widened model decodes every old prompt exactly as before.
     */
    public BuiltinDllm withVocabulary(Vocabulary wider) {
        if (!vocab.isExtendedBy(wider)) {
            throw new UnmaskException("vocabulary " + wider.tokens() + " does not extend the model's " + vocab.tokens() + " (tokens may only be appended)");
        }
        BuiltinDllm out = new BuiltinDllm(config, wider);
        Map<String, Safetensors.Tensor> fresh = out.weights(), mine = weights(), merged = new LinkedHashMap<>();
        int d = config.dModel(), oldV = vocab.size(), newV = wider.size();
        for (var e : fresh.entrySet()) {
            Safetensors.Tensor kept = mine.get(e.getKey());
            float[] data = e.getValue().data().clone();
            switch (e.getKey()) {
                case "embed.tokens" -> System.arraycopy(kept.data(), 0, data, 0, oldV * d); // rows [V, d]
                case "head.weight" -> { // [d, V]
                    java.util.Arrays.fill(data, 0f);
                    for (int i = 0; i < d; i++) System.arraycopy(kept.data(), i * oldV, data, i * newV, oldV);
                }
                case "head.bias" -> {
                    java.util.Arrays.fill(data, NEW_TOKEN_HEAD_BIAS);
                    System.arraycopy(kept.data(), 0, data, 0, oldV);
                }
                default -> data = kept.data().clone();
            }
            merged.put(e.getKey(), new Safetensors.Tensor(e.getValue().shape(), data));
        }
        out.loadWeights(merged, "widened vocabulary of " + description);
        out.setDescription(description);
        return out;
    }

    /**
     * The same model with {@code extra} encoder layers stacked on top of its own, computing exactly the
     * same function: each new layer's attention and MLP output projections (weights and biases) are zero,
     * so in a pre-LN layer both residual branches add 0 and the layer passes its input through. Training
     * then grows them from there (the output projections get gradients at once, the rest from the next
     * step on), so a model that has learnt one task gets fresh heads for another without losing the first.
     * The rest of the new layers' weights are a fresh model's initialisation (same seed).
     */
    public BuiltinDllm withAddedLayers(int extra) {
        if (extra < 1) throw new UnmaskException("layers to add must be >= 1, got " + extra);
        DllmConfig c = config;
        DllmConfig grown = new DllmConfig(c.dModel(), c.layers() + extra, c.heads(), c.ffDim(), c.maxLength(), c.initSeed(), c.rotary(),
                c.fourierDigits(), c.rotaryOnly());
        BuiltinDllm out = new BuiltinDllm(grown, vocab);
        Map<String, Safetensors.Tensor> fresh = out.weights(), mine = weights(), merged = new LinkedHashMap<>();
        for (var e : fresh.entrySet()) {
            String name = e.getKey();
            Safetensors.Tensor kept = mine.get(name);
            float[] data;
            if (kept != null) data = kept.data().clone();
            else if (name.endsWith(".attn.out.weight") || name.endsWith(".attn.out.bias") || name.endsWith(".mlp.out.weight")
                    || name.endsWith(".mlp.out.bias")) data = new float[e.getValue().data().length];
            else data = e.getValue().data().clone();
            merged.put(name, new Safetensors.Tensor(e.getValue().shape(), data));
        }
        out.loadWeights(merged, description + " with " + extra + " added layer" + (extra == 1 ? "" : "s"));
        out.setDescription(description.startsWith(c.label()) ? grown.label() + description.substring(c.label().length()) : grown.label() + " " + description);
        return out;
    }

    /** Replaces every weight; names and shapes must match this architecture exactly. */
    public void loadWeights(Map<String, Safetensors.Tensor> tensors, String source) {
        GraphWeights.load(sd, tensors, source);
    }
}
