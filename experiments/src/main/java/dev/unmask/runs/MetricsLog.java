package dev.unmask.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A training run's metrics.jsonl, one JSON object per step or iteration. */
public final class MetricsLog {
    private MetricsLog() {
    }

    /**
     * Drops the lines a killed process logged after the state it is resumed from (their {@code key},
     * "step" or "iteration", is past {@code resumedAt}): it may have logged steps its state never saved.
     */
    public static void trim(Path metrics, String key, int resumedAt) {
        if (!Files.isRegularFile(metrics)) return;
        try {
            List<String> kept = new ArrayList<>();
            List<String> lines = Files.readAllLines(metrics);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = Json.MAPPER.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new UnmaskException(metrics + " line " + (i + 1) + " is not a JSON object (corrupt or cut short): " + e.getOriginalMessage());
                }
                if (n.path(key).asInt() <= resumedAt) kept.add(line);
            }
            AtomicFiles.write(metrics, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + metrics + ": " + e.getMessage());
        }
    }
}
