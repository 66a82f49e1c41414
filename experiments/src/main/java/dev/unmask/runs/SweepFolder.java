package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * An eval or sweep folder that several invocations write into: at the same time (two sweeps
 * started together, the tasks of a job array) or one after another (a resume, a second grid). The
 * cells are separate files, written atomically by whichever writer computes them; the tables and
 * the manifest are rebuilt under an exclusive lock from the cells of every invocation the manifest
 * records, so no writer's finished cells are lost and the manifest lists every invocation.
 *
 * <p>An invocation on another dLLM replaces the earlier invocations (their numbers are another
 * model's); that is said in one line, never done silently.
 */
public final class SweepFolder {
    public static final String INVOCATIONS = "invocations";
    static final String LOCK = ".unmask.lock";
    /** FileLock is per process: threads of one JVM (tests, a multi-worker sweep) also take this lock. */
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    public record Tables(List<String> cellIds, List<EvalRow> rows, int invocations) {
    }

    private SweepFolder() {
    }

    /** Runs body holding the folder's lock, against other threads and other processes alike. */
    public static <T> T locked(Path dir, Supplier<T> body) {
        Path lockFile = dir.resolve(LOCK);
        ReentrantLock local = IN_PROCESS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new ReentrantLock());
        local.lock();
        try {
            for (int attempt = 1; ; attempt++) {
                Files.createDirectories(dir);
                FileChannel ch;
                try {
                    ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // another process's check of a new --out removed the empty folder it had made, just now
                    if (attempt < 20) continue;
                    throw gone;
                }
                try (ch; FileLock ignored = ch.lock()) {
                    return body.get();
                }
            }
        } catch (IOException e) {
            throw new UnmaskException("cannot lock " + lockFile + ": " + e.getMessage());
        } finally {
            local.unlock();
        }
    }

    /**
     * Records this invocation (its command, config, dLLM and cells) in the folder's manifest and
     * rebuilds eval.csv, eval.json, eval.md and the failure tables from the cells of every recorded
     * invocation on the same dLLM, in the order they were recorded. Call under {@link #locked}.
     */
    public static Tables record(Path dir, RunManifest manifest, String dllmSha, List<SweepCell> cells) {
        List<Map<String, Object>> invocations = new ArrayList<>();
        int replaced = 0;
        String replacedSha = null;
        for (Map<String, Object> earlier : earlierInvocations(dir)) {
            if (dllmSha.equals(earlier.get("dllm_sha256"))) invocations.add(earlier);
            else {
                replaced++;
                replacedSha = String.valueOf(earlier.get("dllm_sha256"));
            }
        }
        if (replaced > 0) {
            System.err.println("unmask: " + dir + ": the tables no longer show " + replaced + " earlier invocation(s) on another dLLM (weights sha256 "
                    + replacedSha.substring(0, Math.min(12, replacedSha.length())) + "); their cells stay in " + Sweep.CELLS + "/");
        }
        Map<String, Object> mine = manifest.invocation();
        mine.put("dllm_sha256", dllmSha);
        mine.put("cells", cells.stream().map(SweepCell::id).toList());
        invocations.add(mine);
        return tables(dir, manifest, invocations);
    }

    /**
     * The tables of the given invocations, from their cells in dir, in the order recorded; sets
     * them and every input they pinned on the manifest. Call under {@link #locked}.
     */
    public static Tables tables(Path dir, RunManifest manifest, List<Map<String, Object>> invocations) {
        Set<String> ids = new LinkedHashSet<>();
        for (Map<String, Object> inv : invocations) {
            if (inv.get("cells") instanceof List<?> l) for (Object id : l) ids.add(String.valueOf(id));
        }
        List<String> kept = new ArrayList<>();
        List<EvalRow> rows = new ArrayList<>();
        Path cellDir = dir.resolve(Sweep.CELLS);
        for (String id : ids) {
            Path f = cellDir.resolve(id + ".json");
            if (!Files.isRegularFile(f)) {
                System.err.println("unmask: warning: cell " + id + " of an earlier invocation is missing; its row is left out (re-run that invocation to recompute it)");
                continue;
            }
            kept.add(id);
            rows.add(Json.read(f, EvalRow.class));
        }
        manifest.invocations(invocations);
        for (Map<String, Object> inv : invocations) {
            // reproduce pins every input the folder's rows rest on, not only the last writer's
            if (inv.get("inputs_sha256") instanceof Map<?, ?> in) manifest.inputsOf(in);
        }
        return new Tables(kept, rows, invocations.size());
    }

    /**
     * Writes eval.csv, eval.json, eval.md and the failure tables of the given tables, and the
     * manifest vouching for them and for every kept cell's files. Call under {@link #locked}.
     */
    public static void write(Path dir, RunManifest manifest, Tables tables) {
        ResultTables.writeAll(dir, "eval", tables.rows());
        List<Path> outputs = new ArrayList<>(List.of(dir.resolve("eval.csv"), dir.resolve("eval.json"), dir.resolve("eval.md")));
        outputs.addAll(Sweep.writeFailureTables(dir, tables.cellIds(), tables.rows()));
        outputs.addAll(cellFiles(dir, tables.cellIds()));
        manifest.result("rows", tables.rows().size());
        manifest.write(dir, outputs);
    }

    /** The files a folder's manifest vouches for: the tables, and each kept cell's result, failure count and samples. */
    public static List<Path> cellFiles(Path dir, List<String> cellIds) {
        List<Path> out = new ArrayList<>();
        for (String id : cellIds) {
            for (String suffix : List.of(".json", Sweep.FAILURES, ".samples.txt")) {
                Path f = dir.resolve(Sweep.CELLS).resolve(id + suffix);
                if (Files.isRegularFile(f)) out.add(f);
            }
        }
        return out;
    }

    /**
     * The invocations the folder's manifest records; a manifest written before invocations were
     * recorded counts as one, whose cells are the cell files matching its eval.json rows.
     */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> earlierInvocations(Path dir) {
        Path file = dir.resolve(RunManifest.FILE);
        if (!Files.isRegularFile(file)) return List.of();
        JsonNode m = Json.read(file, JsonNode.class);
        List<Map<String, Object>> out = new ArrayList<>();
        if (m.has(INVOCATIONS)) {
            for (JsonNode inv : m.get(INVOCATIONS)) out.add(Json.MAPPER.convertValue(inv, LinkedHashMap.class));
            return out;
        }
        Map<String, Object> legacy = new LinkedHashMap<>();
        for (String k : List.of("command", "args", "config", "started", "finished", "inputs_sha256")) {
            if (m.has(k)) legacy.put(k, Json.MAPPER.convertValue(m.get(k), Object.class));
        }
        legacy.put("dllm_sha256", m.path("config").path("dllm_sha256").asText(null));
        legacy.put("cells", legacyCells(dir));
        out.add(legacy);
        return out;
    }

    /** Cell files whose row is one of the folder's eval.json rows, in the order of those rows. */
    private static List<String> legacyCells(Path dir) {
        Path table = dir.resolve("eval.json");
        if (!Files.isRegularFile(table)) return List.of();
        EvalRow[] rows = Json.read(table, EvalRow[].class);
        Map<String, String> idByKey = new HashMap<>();
        Path cellDir = dir.resolve(Sweep.CELLS);
        if (Files.isDirectory(cellDir)) {
            try (Stream<Path> s = Files.list(cellDir)) {
                for (Path f : s.filter(SweepFolder::isCellResult).sorted().toList()) {
                    idByKey.putIfAbsent(key(Json.read(f, EvalRow.class)), f.getFileName().toString().replaceFirst("\\.json$", ""));
                }
            } catch (IOException e) {
                throw new UnmaskException("cannot list " + cellDir + ": " + e.getMessage());
            }
        }
        List<String> ids = new ArrayList<>();
        for (EvalRow r : rows) {
            String id = idByKey.get(key(r));
            if (id != null) ids.add(id);
        }
        if (ids.size() < rows.length) {
            // a folder committed without its cells: its rows cannot be rebuilt, so say that the tables lose them
            System.err.println("unmask: warning: " + (rows.length - ids.size()) + " of the " + rows.length + " rows in " + table
                    + " have no cell file in " + cellDir + "; the rebuilt tables leave them out");
        }
        return ids;
    }

    static boolean isCellResult(Path p) {
        String name = p.getFileName().toString();
        return name.endsWith(".json") && !name.endsWith(Sweep.FAILURES);
    }

    /** What identifies a row within one dLLM's folder. */
    public static String key(EvalRow r) {
        return r.task() + "|" + r.genLength() + "|" + r.blockLength() + "|" + r.policyParams() + "|" + r.seed() + "|" + r.n() + "|" + r.split();
    }
}
