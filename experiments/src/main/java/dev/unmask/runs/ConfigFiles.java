package dev.unmask.runs;

import dev.unmask.env.io.PathKinds;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Resolves a record config from defaults, then a JSON or YAML file, then KEY=VALUE overrides from
 * the command line, rejecting any key the record does not have (with the list of those it has).
 */
public final class ConfigFiles {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ConfigFiles() {
    }

    public static <T> T resolve(T defaults, Path file, List<String> overrides, Class<T> type) {
        ObjectNode node = Json.MAPPER.valueToTree(defaults);
        Set<String> known = new TreeSet<>();
        node.fieldNames().forEachRemaining(known::add);
        // a record may leave keys out of its JSON while they hold their defaults (TrainConfig's budget keys): still keys
        if (type.isRecord()) for (java.lang.reflect.RecordComponent c : type.getRecordComponents()) known.add(c.getName());
        if (file != null) {
            PathKinds.requireFile(file, "config file", "a JSON or YAML file");
            JsonNode fromFile;
            try {
                String name = file.getFileName().toString();
                fromFile = name.endsWith(".yaml") || name.endsWith(".yml") ? YAML.readTree(file.toFile()) : Json.MAPPER.readTree(file.toFile());
            } catch (IOException e) {
                throw new UnmaskException("cannot parse config file " + file + ": " + e.getMessage().split("\n")[0]);
            }
            if (fromFile == null || !fromFile.isObject()) throw new UnmaskException("config file " + file + " must hold an object of key: value pairs");
            for (Iterator<Map.Entry<String, JsonNode>> it = fromFile.fields(); it.hasNext(); ) {
                var e = it.next();
                check(e.getKey(), known, "config file " + file);
                checkType(type, e.getKey(), e.getValue(), "config file " + file);
                node.set(e.getKey(), e.getValue());
            }
        }
        for (String kv : overrides) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new UnmaskException("override '" + kv + "' is not KEY=VALUE");
            String key = kv.substring(0, eq).trim(), value = kv.substring(eq + 1).trim();
            check(key, known, "override");
            JsonNode parsed;
            try {
                parsed = YAML.readTree(value.isEmpty() ? "\"\"" : value); // YAML scalars: numbers, booleans, lists [a, b], strings
            } catch (IOException e) {
                parsed = Json.MAPPER.getNodeFactory().textNode(value);
            }
            if (parsed == null || parsed.isMissingNode()) parsed = Json.MAPPER.getNodeFactory().textNode(value);
            checkType(type, key, parsed, "--set " + kv);
            node.set(key, parsed);
        }
        try {
            return Json.MAPPER.treeToValue(node, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            Throwable t = e;
            while (t.getCause() != null && !(t instanceof UnmaskException)) t = t.getCause();
            if (t instanceof UnmaskException u) throw u;
            if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m && !m.getPath().isEmpty() && m.getPath().get(0).getFieldName() != null) {
                throw new UnmaskException("invalid config: config key " + m.getPath().get(0).getFieldName() + ": " + e.getOriginalMessage());
            }
            throw new UnmaskException("invalid config: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new UnmaskException("invalid config: " + e.getMessage().split("\n")[0]);
        }
    }

    /**
     * A value of the wrong type for its key is an error naming both, before Jackson would coerce it:
     * a fraction given to a whole-number key would otherwise be cut silently (groupSize 2.7 -> 2).
     */
    private static void checkType(Class<?> type, String key, JsonNode value, String where) {
        if (!type.isRecord()) return;
        for (java.lang.reflect.RecordComponent c : type.getRecordComponents()) {
            if (!c.getName().equals(key)) continue;
            String expected = mismatch(c.getGenericType(), value);
            if (expected != null) throw new UnmaskException(where + ": config key " + key + " must be " + expected + ", got " + show(value));
        }
    }

    /** What the value should have been, or null when it fits the type. */
    private static String mismatch(java.lang.reflect.Type t, JsonNode v) {
        if (t == int.class || t == Integer.class) return isWhole(v) && v.asDouble() == (int) v.asDouble() ? null : "a whole number";
        if (t == long.class || t == Long.class) return isWhole(v) && Math.abs(v.asDouble()) < 0x1p53 ? null : "a whole number";
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) return v.isNumber() ? null : "a number";
        if (t == boolean.class || t == Boolean.class) return v.isBoolean() ? null : "true or false";
        if (t instanceof java.lang.reflect.ParameterizedType p && p.getRawType() == List.class) {
            java.lang.reflect.Type element = p.getActualTypeArguments()[0];
            String example = element == Double.class || element == Integer.class || element == Long.class ? "a list of numbers such as [0, 12]" : "a list such as [a, b]";
            if (!v.isArray()) return example;
            for (JsonNode x : v) if (x.isContainerNode() || mismatch(element, x) != null) return example;
        }
        return null;
    }

    private static boolean isWhole(JsonNode v) {
        return v.isIntegralNumber() || v.isNumber() && Double.isFinite(v.asDouble()) && v.asDouble() == Math.rint(v.asDouble());
    }

    private static String show(JsonNode v) {
        return v.isTextual() ? v.asText() : v.toString();
    }

    private static void check(String key, Set<String> known, String where) {
        if (!known.contains(key)) throw new UnmaskException(where + ": config key '" + key + "' does not exist (known: " + String.join(", ", known) + ")");
    }
}
