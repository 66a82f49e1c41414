package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;
import dev.unmask.runs.CellClaims;
import dev.unmask.runs.RunManifest;
import dev.unmask.runs.Sweep;
import dev.unmask.runs.SweepFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * Where a sweep folder stands while workers (threads, processes, the tasks of a job array) run
 * into it: cells finished of those planned, each worker with its heartbeat, and the cells held now.
 * Reads the folder only; safe to run from any machine that sees it, as often as wanted.
 */
@Command(name = "progress", mixinStandardHelpOptions = true,
        description = "Show a sweep folder's progress: cells finished of those planned, the workers running into it, the claims they hold (read-only).")
final class ProgressCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Sweep folder (the --out of the running sweep).")
    Path dir;

    @Override
    public Integer call() {
        if (!Files.isDirectory(dir)) throw new UnmaskException(dir + " does not exist or is not a folder");
        Clock wall = Clock.systemUTC();
        List<JsonNode> workers = CellClaims.registrations(dir);
        Set<String> planned = new LinkedHashSet<>();
        for (JsonNode w : workers) w.path("cells").forEach(c -> planned.add(c.asText()));
        List<Map<String, Object>> invocations = Files.isRegularFile(dir.resolve(RunManifest.FILE)) ? SweepFolder.earlierInvocations(dir) : List.of();
        int recorded = invocations.size();
        for (Map<String, Object> inv : invocations) {
            if (inv.get("cells") instanceof List<?> l) for (Object o : l) planned.add(String.valueOf(o));
        }
        if (planned.isEmpty() && workers.isEmpty()) throw new UnmaskException(dir + " holds no sweep: no manifest.json and no workers/");
        int done = 0;
        for (String id : planned) if (Files.isRegularFile(dir.resolve(Sweep.CELLS).resolve(id + ".json"))) done++;
        long live = workers.stream().filter(w -> CellClaims.alive(w, wall)).count();
        System.out.printf(Locale.ROOT, "%s: %d of %d cells finished (%.0f%%); %d worker(s) running, %d finished invocation(s) recorded%n", dir, done, planned.size(),
                planned.isEmpty() ? 0.0 : 100.0 * done / planned.size(), live, recorded);
        if (!workers.isEmpty()) {
            System.out.println();
            System.out.println("| worker | Slurm | started | heartbeat | holds |");
            System.out.println("|---|---|---|---|---|");
            for (JsonNode w : workers) {
                String slurm = w.path("slurm").path("array_job_id").asText(w.path("slurm").path("job_id").asText(""));
                if (w.path("slurm").has("array_task_id")) slurm += "_" + w.path("slurm").path("array_task_id").asText();
                System.out.printf("| %s/%s | %s | %s | %s | %s |%n", w.path("host").asText("?"), w.path("pid").asText("?"), slurm.isEmpty() ? "-" : slurm,
                        w.path("started").asText("?"), age(w, wall), w.path("held").size() == 0 ? "-" : String.join(", ", texts(w.path("held"))));
            }
        }
        if (!invocations.isEmpty()) {
            System.out.println();
            System.out.println("| finished invocation | worker | Slurm | cells | computed here | taken over | finished |");
            System.out.println("|---|---|---|---|---|---|---|");
            int k = 0;
            for (Map<String, Object> inv : invocations) {
                JsonNode i = Json.MAPPER.valueToTree(inv);
                JsonNode w = i.path("worker");
                String slurm = w.path("slurm").path("array_job_id").asText(w.path("slurm").path("job_id").asText(""));
                if (w.path("slurm").has("array_task_id")) slurm += "_" + w.path("slurm").path("array_task_id").asText();
                System.out.printf("| %d | %s | %s | %d%s | %s | %s | %s |%n", ++k, w.has("host") ? w.path("host").asText() + "/" + w.path("pid").asText() : "-",
                        slurm.isEmpty() ? "-" : slurm, i.path("cells").size(), i.has("shard") ? " (shard " + i.path("shard").asText() + ")" : "",
                        i.has("computed") ? Integer.toString(i.path("computed").size()) : "-", i.has("taken_over") ? Integer.toString(i.path("taken_over").size()) : "0",
                        i.path("finished").asText("-"));
            }
        }
        Path claims = dir.resolve(CellClaims.CLAIMS);
        if (Files.isDirectory(claims)) {
            List<String> lines = new ArrayList<>();
            try (var s = Files.list(claims)) {
                for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith(".")).sorted().toList()) {
                    String id = f.getFileName().toString().replaceFirst("\\.json$", "");
                    if (Files.isRegularFile(dir.resolve(Sweep.CELLS).resolve(id + ".json"))) continue;
                    JsonNode c;
                    try {
                        c = Json.MAPPER.readTree(Files.readString(f));
                    } catch (Exception e) {
                        continue; // released or being written just now
                    }
                    lines.add(String.format("| %s | %s/%s | %s |", id, c.path("host").asText("?"), c.path("pid").asText("?"), age(c, wall)));
                }
            } catch (java.io.IOException e) {
                throw new UnmaskException("cannot list " + claims + ": " + e.getMessage());
            }
            if (!lines.isEmpty()) {
                System.out.println();
                System.out.println("| cell being computed | by | heartbeat |");
                System.out.println("|---|---|---|");
                lines.forEach(System.out::println);
            }
        }
        return 0;
    }

    /** "4 s ago", or "120 s ago, STALE (timeout 60 s): taken for dead" past the holder's timeout. */
    private static String age(JsonNode beat, Clock wall) {
        String hb = beat.path("heartbeat").asText(null);
        if (hb == null) return "?";
        long s;
        try {
            s = Duration.between(Instant.parse(hb), wall.instant()).toSeconds();
        } catch (RuntimeException e) {
            return "?";
        }
        String out = s + " s ago";
        if (!CellClaims.alive(beat, wall)) out += ", STALE (timeout " + beat.path("timeout_s").asText("?") + " s): taken for dead";
        return out;
    }

    private static List<String> texts(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(x -> out.add(x.asText()));
        return out;
    }
}
