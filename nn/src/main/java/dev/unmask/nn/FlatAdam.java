package dev.unmask.nn;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;

import java.util.*;

/**
 * {@link Adam} for parameters held in one flat off-heap buffer: the same global-norm clipping,
 * the same float arithmetic per element in the same order, and the same checkpoint tensors
 * (m/NAME, v/NAME, step), without an ND4J op per tensor and step.
 */
public final class FlatAdam {
    private static final int CHUNK = 4096;
    private final double beta1, beta2, eps;
    private final List<ParameterSlot> slots;
    private final float[] m, v;
    private final float[] g = new float[CHUNK], p = new float[CHUNK];
    private long step;

    public FlatAdam(List<ParameterSlot> slots) {
        this.beta1 = 0.9;
        this.beta2 = 0.999;
        this.eps = 1e-8;
        this.slots = List.copyOf(slots);
        int total = 0;
        for (ParameterSlot s : slots) total = Math.max(total, s.offset() + s.size());
        m = new float[total];
        v = new float[total];
    }

    public long step() {
        return step;
    }

    /**
     * One update of {@code params} from {@code grads} (same layout). Returns the gradient norm
     * before clipping; throws if it is not finite, leaving the parameters untouched.
     */
    public double update(OffHeapFloats params, OffHeapFloats grads, double lr, double clipNorm) {
        int n = m.length;
        double sq = 0;
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            grads.get(from, g, 0, len);
            for (int i = 0; i < len; i++) sq += (double) g[i] * g[i];
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) {
            throw new UnmaskException("gradient norm is " + norm + " at update " + (step + 1) + ": training diverged; lower the learning rate or resume from the last checkpoint");
        }
        double scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1.0;
        step++;
        AdamStep adamStep = AdamStep.of(beta1, beta2, eps, lr, step, scale, 0);
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            grads.get(from, g, 0, len);
            params.get(from, p, 0, len);
            adamStep.apply(g, 0, p, 0, m, v, from, len);
            params.put(from, p, 0, len);
        }
        return norm;
    }

    /** The optimizer state as tensors (m/NAME, v/NAME) plus the step count, as {@link Adam#state()} writes it. */
    public Map<String, Safetensors.Tensor> state() {
        Map<String, Safetensors.Tensor> out = new TreeMap<>();
        if (step > 0) {
            for (ParameterSlot sl : slots) {
                out.put("m/" + sl.name(), new Safetensors.Tensor(sl.shape().clone(), Arrays.copyOfRange(m, sl.offset(), sl.offset() + sl.size())));
                out.put("v/" + sl.name(), new Safetensors.Tensor(sl.shape().clone(), Arrays.copyOfRange(v, sl.offset(), sl.offset() + sl.size())));
            }
        }
        out.put("step", new Safetensors.Tensor(new long[]{1}, new float[]{Float.intBitsToFloat((int) step)}));
        return out;
    }

    public void restore(Map<String, Safetensors.Tensor> state) {
        Arrays.fill(m, 0f);
        Arrays.fill(v, 0f);
        Safetensors.Tensor st = state.get("step");
        step = st == null ? 0 : Float.floatToRawIntBits(st.data()[0]);
        for (ParameterSlot sl : slots) {
            for (String kind : List.of("m/", "v/")) {
                Safetensors.Tensor t = state.get(kind + sl.name());
                if (t == null) continue;
                if (t.data().length != sl.size()) throw new UnmaskException("optimizer state " + kind + sl.name() + " has " + t.data().length + " values, expected " + sl.size());
                System.arraycopy(t.data(), 0, kind.equals("m/") ? m : v, sl.offset(), sl.size());
            }
        }
    }
}
