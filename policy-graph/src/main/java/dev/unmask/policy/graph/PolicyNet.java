package dev.unmask.policy.graph;

import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyModel;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.GraphWeights;
import dev.unmask.nn.TransformerBlocks;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.*;

/**
 * The policy network. Input: for each running episode, the W = block-length positions of its
 * active block, each with F features (zeros where not eligible); or, with
 * {@link PolicyConfig#seesWholeBuffer()}, the W = L positions of the whole buffer, every one a key
 * and only the active block's masked ones eligible. Computation:
 * <pre>
 *   h = features W_in + b_in + sinusoid(index in block)        [R*W, d]
 *   h = encoderLayer(h), attention keys restricted to eligible positions
 *   logit = LN(h) w_out + b_out                                  [R, W]
 * </pre>
 * The sinusoidal encoding depends only on the index inside the block, so the same weights run on
 * any block or buffer length.
 *
 * <p>Not thread-safe.
 */
public final class PolicyNet implements PolicyModel {
    public static final String FEATURES = "features", KEY_BIAS = "keyBias", POSENC = "posenc", LOGITS = "logits", VALUE = "value";

    private final PolicyConfig config;
    private final List<PolicyFeatures> features;
    final SameDiff sd;

    public PolicyNet(PolicyConfig config) {
        this.config = config;
        this.features = config.parsedFeatures();
        this.sd = SameDiff.create();
        Random rng = new Random(config.initSeed());
        int f = features.size(), d = config.dModel();
        SDVariable in = sd.placeHolder(FEATURES, DataType.FLOAT, -1, -1, f);
        SDVariable keyBias = sd.placeHolder(KEY_BIAS, DataType.FLOAT, -1, 1, 1, -1);
        SDVariable posenc = sd.placeHolder(POSENC, DataType.FLOAT, -1, d);
        SDVariable shapeRW = sd.shape(in).castTo(DataType.LONG).get(org.nd4j.autodiff.samediff.SDIndex.interval(0, 2));
        SDVariable x = TransformerBlocks.linear(sd, "embed", in.reshape(-1, f), f, d, rng).add(posenc);
        x = TransformerBlocks.encoderLayer(sd, "layer0", x, shapeRW, keyBias, d, config.heads(), config.ffDim(), rng);
        x = TransformerBlocks.layerNorm(sd, "final_ln", x, d);
        SDVariable logit = TransformerBlocks.linear(sd, "head", x, d, 1, rng);
        sd.reshape(LOGITS, logit, shapeRW);
        // value head (PPO's critic): mean of the final features over eligible positions, then linear
        SDVariable eligible = keyBias.gt(-1.0).castTo(DataType.FLOAT).reshape(-1, 1); // [R*W, 1]
        SDVariable shapeRWd = sd.concat(0, shapeRW, sd.constant(Nd4j.createFromArray((long) d)));
        SDVariable pooled = sd.reshape(x.mul(eligible), shapeRWd).sum(1)
                .div(sd.reshape(eligible, sd.concat(0, shapeRW, sd.constant(Nd4j.createFromArray(1L)))).sum(1)); // [R, d]
        sd.reshape(VALUE, TransformerBlocks.linear(sd, "value_head", pooled, d, 1, rng), sd.constant(Nd4j.createFromArray(-1L)));
    }

    /** The graph, for trainers that add their loss to it. */
    public SameDiff graph() {
        return sd;
    }

    /** Names of the trainable variables, sorted. */
    public List<String> parameterNames() {
        return GraphWeights.trainable(sd).stream().map(SDVariable::name).toList();
    }

    @Override
    public PolicyConfig config() {
        return config;
    }

    @Override
    public long parameterCount() {
        return GraphWeights.parameterCount(sd);
    }

    public Map<String, INDArray> placeholders(PolicyWindow win) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(FEATURES, Nd4j.create(win.features(), new long[]{win.rows(), win.width(), features.size()}, 'c'));
        ph.put(KEY_BIAS, Nd4j.create(win.keyBias(), new long[]{win.rows(), 1, 1, win.width()}, 'c'));
        ph.put(POSENC, Nd4j.create(tile(PolicyWindow.sinusoid(win.width(), config.dModel()), win.rows()), new long[]{(long) win.rows() * win.width(), config.dModel()}, 'c'));
        return ph;
    }

    @Override
    public Output forward(PolicyWindow win, boolean withValues) {
        Map<String, INDArray> out = withValues ? sd.output(placeholders(win), LOGITS, VALUE) : sd.output(placeholders(win), LOGITS);
        float[] flat = out.get(LOGITS).dup('c').data().asFloat();
        float[][] logits = new float[win.rows()][win.width()];
        for (int r = 0; r < win.rows(); r++) {
            for (int j = 0; j < win.width(); j++) logits[r][j] = win.eligible()[r][j] ? flat[r * win.width() + j] : Float.NEGATIVE_INFINITY;
        }
        return new Output(logits, withValues ? out.get(VALUE).dup('c').data().asFloat() : null);
    }

    private static float[] tile(float[] block, int times) {
        float[] out = new float[block.length * times];
        for (int t = 0; t < times; t++) System.arraycopy(block, 0, out, t * block.length, block.length);
        return out;
    }

    @Override
    public Map<String, Safetensors.Tensor> weights() {
        return GraphWeights.read(sd);
    }

    /** The SameDiff network of a checkpoint folder (RUN/policy). */
    public static PolicyNet load(Path dir) {
        PolicyCheckpoint.Stored stored = PolicyCheckpoint.read(dir);
        PolicyNet net = new PolicyNet(stored.config());
        net.loadWeights(stored.weights(), stored.source());
        return net;
    }

    public void loadWeights(Map<String, Safetensors.Tensor> tensors, String source) {
        GraphWeights.load(sd, tensors, source);
    }
}
