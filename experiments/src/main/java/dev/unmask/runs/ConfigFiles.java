package dev.unmask.runs;

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
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new UnmaskException("config file " + file + " does not exist");
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
            node.set(key, parsed);
        }
        try {
            return Json.MAPPER.treeToValue(node, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            Throwable t = e;
            while (t.getCause() != null && !(t instanceof UnmaskException)) t = t.getCause();
            if (t instanceof UnmaskException u) throw u;
            throw new UnmaskException("invalid config: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new UnmaskException("invalid config: " + e.getMessage().split("\n")[0]);
        }
    }

    private static void check(String key, Set<String> known, String where) {
        if (!known.contains(key)) throw new UnmaskException(where + ": config key '" + key + "' does not exist (known: " + String.join(", ", known) + ")");
    }
}
