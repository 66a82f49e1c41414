package dev.unmask.policy.onnx;

import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyInputs;

import dev.unmask.policy.BernoulliDecision;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An exported policy run through ONNX Runtime behind the same {@link UnmaskPolicy} interface as
 * {@code LearnedPolicy}, with the same decision rule (greedy: p >= 0.5; sample: a Bernoulli per
 * position from the episode's stream; fallback to the most probable position). Uses no ND4J.
 */
public final class OnnxPolicy implements UnmaskPolicy, AutoCloseable {
    private final OnnxPolicyModel model;
    private final double temperature;
    private final boolean sample;
    private final String label;

    public OnnxPolicy(OnnxPolicyModel model, double temperature, boolean sample, String label) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) throw new UnmaskException("policy temperature must be > 0, got " + temperature);
        this.model = model;
        this.temperature = temperature;
        this.sample = sample;
        this.label = label;
    }

    public static OnnxPolicy load(Path onnx, double temperature, boolean sample) {
        return new OnnxPolicy(OnnxPolicyModel.load(onnx), temperature, sample, onnx.toString());
    }

    public OnnxPolicyModel model() {
        return model;
    }

    @Override
    public String name() {
        return "learned";
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("policy", label);
        p.put("temp", temperature);
        p.put("mode", sample ? "sample" : "greedy");
        p.put("runtime", "onnx");
        return p;
    }

    @Override
    public boolean[][] select(StepObservation obs) {
        PolicyInputs in = PolicyInputs.of(model.features(), obs, null, model.seesWholeBuffer());
        float[] logits = model.logits(in.features(), in.eligible(), in.rows(), in.width());
        boolean[][] out = new boolean[in.rows()][obs.genLength()];
        for (int r = 0; r < in.rows(); r++) {
            int row = r;
            BernoulliDecision d = BernoulliDecision.decide(logits, r * in.width(), in.width(), j -> in.eligible()[row * in.width() + j] != 0f,
                    temperature, sample, obs.rng()[r]);
            if (d.fallback() >= 0) obs.fallbacks().report(r);
            boolean[] take = d.taken();
            for (int j = 0; j < in.width(); j++) if (take[j]) out[r][in.blockStart()[r] + j] = true;
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
    }
}
