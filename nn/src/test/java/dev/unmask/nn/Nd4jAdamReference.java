package dev.unmask.nn;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.*;

/**
 * The optimizer as it was written with ND4J operations (one operation per line of the update), kept
 * verbatim as the reference that {@link Adam}'s plain-Java loop must equal bit for bit
 * ({@code AdamBitIdentityTest}).
 */
final class Nd4jAdamReference {
    private final double beta1, beta2, eps;
    private final Map<String, INDArray> m = new TreeMap<>(), v = new TreeMap<>();
    private long step;

    Nd4jAdamReference(double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    Nd4jAdamReference() {
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
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        double stepSize = lr * Math.sqrt(c2) / c1;
        for (var e : grads.entrySet()) {
            INDArray g = scale == 1.0 ? e.getValue() : e.getValue().mul(scale);
            INDArray mi = m.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(g));
            INDArray vi = v.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(g));
            mi.muli(beta1).addi(g.mul(1 - beta1));
            vi.muli(beta2).addi(g.mul(g).muli(1 - beta2));
            INDArray upd = mi.div(Transforms.sqrt(vi, true).addi(eps)).muli(stepSize);
            INDArray param = sd.getVariable(e.getKey()).getArr();
            if (weightDecay > 0) param.muli(1 - lr * weightDecay);
            param.subi(upd);
        }
        return norm;
    }

    /** The optimizer state as tensors (m/NAME, v/NAME) plus the step count, for checkpoints. */
    public Map<String, Safetensors.Tensor> state() {
        Map<String, Safetensors.Tensor> out = new TreeMap<>();
        m.forEach((k, a) -> out.put("m/" + k, new Safetensors.Tensor(a.shape(), a.dup().data().asFloat())));
        v.forEach((k, a) -> out.put("v/" + k, new Safetensors.Tensor(a.shape(), a.dup().data().asFloat())));
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
                m.put(e.getKey().substring(2), Nd4j.create(e.getValue().data(), e.getValue().shape(), 'c'));
            } else if (e.getKey().startsWith("v/")) {
                v.put(e.getKey().substring(2), Nd4j.create(e.getValue().data(), e.getValue().shape(), 'c'));
            }
        }
    }
}
