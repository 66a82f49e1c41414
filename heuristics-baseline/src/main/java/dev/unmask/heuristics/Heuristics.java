package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.UnmaskPolicy;

import java.util.*;

/**
 * Builds a heuristic from a spec string {@code name[:key=value,...]}, e.g. {@code threshold:tau=0.9},
 * {@code topk:steps=64}, {@code eb:gamma=0.1}. The same strings appear in result tables.
 */
public final class Heuristics {
    /** name -> (parameter name, default value) */
    private static final Map<String, Map.Entry<String, Double>> PARAMS = new LinkedHashMap<>();

    static {
        PARAMS.put("random", Map.entry("steps", 64.0));
        PARAMS.put("topk", Map.entry("steps", 64.0));
        PARAMS.put("margin", Map.entry("steps", 64.0));
        PARAMS.put("entropy", Map.entry("steps", 64.0));
        PARAMS.put("threshold", Map.entry("tau", 0.9));
        PARAMS.put("factor", Map.entry("f", 1.0));
        PARAMS.put("eb", Map.entry("gamma", 0.1));
    }

    private Heuristics() {
    }

    public static Set<String> names() {
        return PARAMS.keySet();
    }

    public static UnmaskPolicy parse(String spec) {
        String[] parts = spec.trim().split(":", 2);
        String name = parts[0];
        Map.Entry<String, Double> param = PARAMS.get(name);
        if (param == null) throw new UnmaskException("unknown heuristic '" + name + "' (known: " + String.join(", ", PARAMS.keySet()) + ")");
        double value = param.getValue();
        if (parts.length == 2 && !parts[1].isBlank()) {
            for (String kv : parts[1].split(",")) {
                String[] p = kv.split("=", 2);
                if (p.length != 2 || !p[0].trim().equals(param.getKey())) {
                    throw new UnmaskException("heuristic '" + name + "' takes one parameter, " + param.getKey() + "=VALUE; got '" + kv + "'");
                }
                try {
                    value = Double.parseDouble(p[1].trim());
                } catch (NumberFormatException e) {
                    throw new UnmaskException("heuristic '" + name + "': " + param.getKey() + " must be a number, got '" + p[1] + "'");
                }
                if (!Double.isFinite(value)) throw new UnmaskException("heuristic '" + name + "': " + param.getKey() + " must be finite");
            }
        }
        return switch (name) {
            case "random" -> new ScheduledTopK(ScheduledTopK.Score.RANDOM, steps(value));
            case "topk" -> new ScheduledTopK(ScheduledTopK.Score.CONFIDENCE, steps(value));
            case "margin" -> new ScheduledTopK(ScheduledTopK.Score.MARGIN, steps(value));
            case "entropy" -> new ScheduledTopK(ScheduledTopK.Score.ENTROPY, steps(value));
            case "threshold" -> new ConfidenceThreshold(value);
            case "factor" -> new FactorRule(value);
            case "eb" -> new EntropyBounded(value);
            default -> throw new IllegalStateException(name);
        };
    }

    private static int steps(double v) {
        if (v != Math.rint(v) || v < 1) throw new UnmaskException("step budget must be a whole number >= 1, got " + v);
        return (int) v;
    }
}
