package dev.unmask.env.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a JSON-lines log (metrics.jsonl, invocations.jsonl): a line that is not JSON is a one-line error naming the file and line. */
public final class JsonLines {
    private JsonLines() {
    }

    /** Every non-blank line as a tree. */
    public static List<JsonNode> readTrees(Path file) {
        List<JsonNode> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            try {
                out.add(Json.MAPPER.readTree(lines.get(i)));
            } catch (JsonProcessingException e) {
                throw notJson(file, i, e);
            }
        }
        return out;
    }

    /** Every non-blank line as a JSON object. */
    public static List<Map<String, Object>> readObjects(Path file) {
        List<Map<String, Object>> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            try {
                out.add(Json.MAPPER.readValue(lines.get(i), new TypeReference<Map<String, Object>>() {
                }));
            } catch (JsonProcessingException e) {
                throw notJson(file, i, e);
            }
        }
        return out;
    }

    private static List<String> lines(Path file) {
        PathKinds.requireFile(file, "log", "a JSON-lines file");
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + file + ": " + OutputDirs.reason(e));
        }
    }

    private static UnmaskException notJson(Path file, int index, JsonProcessingException e) {
        return new UnmaskException(file + " line " + (index + 1) + " is not a JSON object (corrupt or cut short): " + e.getOriginalMessage());
    }
}
