package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.unmask.env.io.Json;

import java.util.*;

/**
 * What a sweep's rows rest on besides its grid: the dLLM (weights checksum and engine), the tasks,
 * the buffer length, the split, the prompts per cell and the batch. Workers that share a folder
 * while they run, and shard folders that {@code unmask merge} puts together, must agree on these;
 * policies, block lengths and seeds may differ (they are more rows of the same table).
 */
public final class SweepInputs {
    static final List<String> KEYS = List.of("dllm_sha256", "dllm_engine", "cache", "tasks", "gen_length", "split", "n", "batch");

    private SweepInputs() {
    }

    /** From a sweep's resolved config (as the manifest records it) and the engine that ran the dLLM. */
    public static Map<String, Object> of(Map<String, Object> config, String engine) {
        return of((JsonNode) Json.MAPPER.valueToTree(config), engine);
    }

    public static Map<String, Object> of(JsonNode config, String engine) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : KEYS) {
            if (k.equals("dllm_engine")) {
                m.put(k, engine);
                continue;
            }
            JsonNode v = config.get(k);
            Object value = v == null || v.isNull() ? null : Json.MAPPER.convertValue(v, Object.class);
            if (k.equals("tasks") && value instanceof List<?> l) {
                List<String> sorted = new ArrayList<>();
                for (Object o : l) sorted.add(String.valueOf(o));
                Collections.sort(sorted);
                value = sorted;
            }
            if (k.equals("cache") && value == null) value = "none";
            m.put(k, value);
        }
        return m;
    }

    /** Null when both agree on every input; otherwise the first that differs, as "NAME A there, B here". */
    public static String difference(Map<String, Object> there, Map<String, Object> here) {
        return difference(there, here, "there", "here");
    }

    /** As above, naming the two sides: "NAME A in X, B in Y". */
    public static String difference(Map<String, Object> there, Map<String, Object> here, String thereLabel, String hereLabel) {
        JsonNode a = Json.MAPPER.valueToTree(there), b = Json.MAPPER.valueToTree(here);
        for (String k : KEYS) {
            JsonNode x = a.path(k), y = b.path(k);
            if (x.isMissingNode()) x = NullNode.getInstance();
            if (y.isMissingNode()) y = NullNode.getInstance();
            if (!x.equals(y)) return label(k) + " " + show(x, k) + " " + thereLabel + ", " + show(y, k) + " " + hereLabel;
        }
        return null;
    }

    private static String label(String k) {
        return switch (k) {
            case "dllm_sha256" -> "dLLM (weights sha256)";
            case "dllm_engine" -> "dLLM engine";
            case "gen_length" -> "buffer length";
            default -> k;
        };
    }

    private static String show(JsonNode v, String k) {
        if (v == null || v.isNull()) return k.equals("gen_length") ? "each task's own" : "none";
        if (k.equals("dllm_sha256")) return v.asText().substring(0, Math.min(12, v.asText().length()));
        return v.isTextual() ? v.asText() : v.toString();
    }
}
