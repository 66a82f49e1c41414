package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.*;

/**
 * Builds a heuristic from a spec string {@code name[:key=value,...]} ({@link PolicySpec}), e.g. {@code threshold:tau=0.9},
 * {@code topk:steps=64}, {@code eb:gamma=0.1}. The same strings appear in result tables.
 */
public final class Heuristics {
    /** name -> its parameters with their defaults, in the order tables list them */
    private static final Map<String, Map<String, Double>> PARAMS = new LinkedHashMap<>();

    static {
        PARAMS.put("random", Map.of("steps", 64.0));
        PARAMS.put("topk", Map.of("steps", 64.0));
        PARAMS.put("margin", Map.of("steps", 64.0));
        PARAMS.put("entropy", Map.of("steps", 64.0));
        PARAMS.put("threshold", Map.of("tau", 0.9));
        Map<String, Double> frontier = new LinkedHashMap<>();
        frontier.put("tau", 0.99);
        frontier.put("slope", 12.0);
        frontier.put("fallback", 0.0);
        PARAMS.put("frontier", frontier);
        PARAMS.put("factor", Map.of("f", 1.0));
        PARAMS.put("eb", Map.of("gamma", 0.1));
        // KLASS reference setting (LLaDA, GSM8K): conf 0.6, kl 0.015, history 2
        Map<String, Double> klass = new LinkedHashMap<>();
        klass.put("conf", 0.6);
        klass.put("kl", 0.015);
        klass.put("history", 2.0);
        klass.put("steps", 64.0);
        PARAMS.put("klass", klass);
    }

    private Heuristics() {
    }

    public static Set<String> names() {
        return PARAMS.keySet();
    }

    /** A heuristic's parameters and the values a spec that leaves them out runs with (documented in --policies' help and the user guide). */
    public static Map<String, Double> defaults(String name) {
        Map<String, Double> d = PARAMS.get(name);
        if (d == null) throw new UnmaskException("unknown heuristic '" + name + "' (known: " + String.join(", ", PARAMS.keySet()) + ")");
        return Collections.unmodifiableMap(d);
    }

    public static UnmaskPolicy parse(String spec) {
        PolicySpec parsed = PolicySpec.parse(spec);
        String name = parsed.name();
        Map<String, Double> defaults = PARAMS.get(name);
        if (defaults == null) throw new UnmaskException("unknown heuristic '" + name + "' (known: " + String.join(", ", PARAMS.keySet()) + ")");
        Map<String, Double> v = new LinkedHashMap<>(defaults);
        for (PolicySpec.Param p : parsed.params()) {
            if (!p.isPair() || !defaults.containsKey(p.key())) {
                throw new UnmaskException("heuristic '" + name + "' takes " + String.join(", ", defaults.keySet().stream().map(k -> k + "=VALUE").toList())
                        + "; got '" + p.text() + "'");
            }
            double value = p.number("heuristic '" + name + "': ");
            if (!Double.isFinite(value)) throw new UnmaskException("heuristic '" + name + "': " + p.key() + " must be finite");
            v.put(p.key(), value);
        }
        return switch (name) {
            case "random" -> new ScheduledTopK(ScheduledTopK.Score.RANDOM, steps(v.get("steps")));
            case "topk" -> new ScheduledTopK(ScheduledTopK.Score.CONFIDENCE, steps(v.get("steps")));
            case "margin" -> new ScheduledTopK(ScheduledTopK.Score.MARGIN, steps(v.get("steps")));
            case "entropy" -> new ScheduledTopK(ScheduledTopK.Score.ENTROPY, steps(v.get("steps")));
            case "threshold" -> new ConfidenceThreshold(v.get("tau"));
            case "frontier" -> new FrontierThreshold(v.get("tau"), v.get("slope"), flag("frontier: fallback", v.get("fallback")));
            case "factor" -> new FactorRule(v.get("f"));
            case "eb" -> new EntropyBounded(v.get("gamma"));
            case "klass" -> new Klass(v.get("conf"), v.get("kl"), whole("klass: history", v.get("history")), steps(v.get("steps")));
            default -> throw new IllegalStateException(name);
        };
    }

    private static boolean flag(String what, double v) {
        if (v != 0 && v != 1) throw new UnmaskException(what + " must be 0 or 1, got " + v);
        return v == 1;
    }

    private static int steps(double v) {
        return whole("step budget", v);
    }

    private static int whole(String what, double v) {
        if (v != Math.rint(v) || v < 1) throw new UnmaskException(what + " must be a whole number >= 1, got " + v);
        return (int) v;
    }
}
