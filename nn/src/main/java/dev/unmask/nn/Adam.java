package dev.unmask.nn;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;

/**
 * Adam with global gradient-norm clipping, applied in place to a SameDiff graph's variables.
 * Our own (rather than SameDiff's TrainingConfig) so that clipping, NaN detection and the exact
 * optimizer state can be checkpointed and resumed bit-for-bit.
 *
 * <p>The step is a plain Java loop over each parameter ({@link AdamStep}, shared with
 * {@link FlatAdam}) that gives the ND4J operations it replaced bit for bit
 * ({@code AdamBitIdentityTest}) without their ~10 native calls per parameter and step (about 8 ms
 * a policy minibatch).
 */
public final class Adam {
    private final double beta1, beta2, eps;
    private final Map<String, float[]> m = new TreeMap<>(), v = new TreeMap<>();
    private final Map<String, long[]> shapes = new TreeMap<>();
    private long step;

    public Adam(double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    public Adam() {
        this(0.9, 0.999, 1e-8);
    }

    public long step() {
        return step;
    }

    /**
     * One update. Returns the gradient norm before clipping; throws if it is not finite, leaving
     * the parameters untouched (the caller keeps its last good checkpoint).
     */
    public double update(SameDiff sd, Map<String, INDArray> grads, double lr, double clipNorm) {
        return update(sd, grads, lr, clipNorm, 0);
    }

    /**
     * As above, with AdamW's decoupled weight decay (Loshchilov and Hutter): each parameter first
     * shrinks by lr * weightDecay of itself, then takes the Adam step. 0 is plain Adam.
     */
    public double update(SameDiff sd, Map<String, INDArray> grads, double lr, double clipNorm, double weightDecay) {
        double sq = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sq += n * n;
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) {
            throw new UnmaskException("gradient norm is " + norm + " at update " + (step + 1) + ": training diverged; lower the learning rate or resume from the last checkpoint");
        }
        double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1.0;
        step++;
        AdamStep adamStep = AdamStep.of(beta1, beta2, eps, lr, step, scale, weightDecay);
        for (var entry : grads.entrySet()) {
            String name = entry.getKey();
            float[] g = GraphWeights.values(entry.getValue());
            INDArray param = sd.getVariable(name).getArr();
            float[] p = GraphWeights.values(param);
            if (g.length != p.length) throw new IllegalArgumentException(name + ": gradient of " + g.length + " values for " + p.length + " parameters");
            shapes.putIfAbsent(name, entry.getValue().shape());
            float[] mi = m.computeIfAbsent(name, k -> new float[g.length]), vi = v.computeIfAbsent(name, k -> new float[g.length]);
            adamStep.apply(g, 0, p, 0, mi, vi, 0, g.length);
            GraphWeights.assign(param, p);
        }
        return norm;
    }

    /** The optimizer state as tensors (m/NAME, v/NAME) plus the step count, for checkpoints. */
    public Map<String, Safetensors.Tensor> state() {
        Map<String, Safetensors.Tensor> out = new TreeMap<>();
        m.forEach((k, a) -> out.put("m/" + k, new Safetensors.Tensor(shapes.get(k), a.clone())));
        v.forEach((k, a) -> out.put("v/" + k, new Safetensors.Tensor(shapes.get(k), a.clone())));
        out.put("step", new Safetensors.Tensor(new long[]{1}, new float[]{Float.intBitsToFloat((int) step)}));
        return out;
    }

    public void restore(Map<String, Safetensors.Tensor> state) {
        m.clear();
        v.clear();
        for (var e : state.entrySet()) {
            if (e.getKey().equals("step")) {
                step = Float.floatToRawIntBits(e.getValue().data()[0]);
            } else if (e.getKey().startsWith("m/")) {
                m.put(e.getKey().substring(2), e.getValue().data().clone());
                shapes.put(e.getKey().substring(2), e.getValue().shape());
            } else if (e.getKey().startsWith("v/")) {
                v.put(e.getKey().substring(2), e.getValue().data().clone());
                shapes.put(e.getKey().substring(2), e.getValue().shape());
            }
        }
    }
}
