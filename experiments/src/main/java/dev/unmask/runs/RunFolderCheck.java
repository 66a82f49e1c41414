package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Stream;

/**
 * What {@code reproduce} checks of a run folder besides re-running it: that every output file
 * still has the checksum its manifest records, and that a re-run's tables match the recorded ones
 * row by row (eval.json, eval.csv and the cells), in every number that says how a policy did.
 */
public final class RunFolderCheck {
    /** The numbers of a row that a re-run must reproduce exactly (wall time is not one). */
    static final List<String> COMPARED = List.of("accuracy", "mean_nfe", "n", "fallback_steps");

    private RunFolderCheck() {
    }

    /** One line per output file that is missing or whose SHA-256 differs from the manifest's. */
    public static List<String> outputsDiffer(Path dir, JsonNode manifest) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("outputs_sha256").fields(); it.hasNext(); ) {
            var e = it.next();
            Path f = dir.resolve(e.getKey());
            String recorded = e.getValue().asText();
            if (!Files.isRegularFile(f)) out.add("MISSING " + f + " (the manifest records it)");
            else {
                String now = Checksums.sha256(f);
                if (!now.equals(recorded)) {
                    out.add("CHANGED " + f + " (sha256 " + prefix(recorded) + " recorded, " + prefix(now) + " now)");
                }
            }
        }
        return out;
    }

    /** The argument lists of a folder's invocations, oldest first, each once; a single run's args otherwise. */
    public static List<List<String>> invocationArgs(JsonNode manifest) {
        Set<List<String>> out = new LinkedHashSet<>();
        JsonNode invocations = manifest.path(SweepFolder.INVOCATIONS);
        if (invocations.isArray() && !invocations.isEmpty()) {
            for (JsonNode inv : invocations) out.add(args(inv.path("args")));
        } else {
            out.add(args(manifest.path("args")));
        }
        out.removeIf(List::isEmpty);
        return new ArrayList<>(out);
    }

    private static List<String> args(JsonNode node) {
        List<String> args = new ArrayList<>();
        node.forEach(a -> args.add(a.asText()));
        return args;
    }

    /**
     * Compares NAME.json, NAME.csv and (withCells) the cells of a recorded folder with a re-run's,
     * printing a table of the JSON rows and a line for every other difference.
     *
     * @return {identical, different}
     */
    public static int[] compareTables(Path recorded, Path rerun, String name, boolean withCells) {
        return compareTables(recorded, rerun, name, withCells, "recorded", "reproduced");
    }

    /** As above, the two folders' columns headed by the labels given (compare: the two folder names). */
    public static int[] compareTables(Path recorded, Path rerun, String name, boolean withCells, String recordedLabel, String rerunLabel) {
        int[] json = compareJsonRows(recorded.resolve(name + ".json"), rerun.resolve(name + ".json"), recordedLabel, rerunLabel);
        int csvDifferent = compareCsv(recorded.resolve(name + ".csv"), rerun.resolve(name + ".csv"));
        int cellsDifferent = withCells ? compareCells(recorded.resolve(Sweep.CELLS), rerun.resolve(Sweep.CELLS)) : 0;
        return new int[]{json[0], json[1] + csvDifferent + cellsDifferent};
    }

    private static int[] compareJsonRows(Path recorded, Path reproduced, String recordedLabel, String rerunLabel) {
        if (!Files.isRegularFile(recorded)) throw new UnmaskException(recorded + " is missing: nothing to compare with");
        if (!Files.isRegularFile(reproduced)) throw new UnmaskException(reproduced + " is missing: nothing to compare with");
        EvalRow[] before = Json.read(recorded, EvalRow[].class), after = Json.read(reproduced, EvalRow[].class);
        Map<String, EvalRow> byKey = new HashMap<>();
        for (EvalRow r : after) byKey.put(SweepFolder.key(r), r);
        int same = 0, different = 0;
        System.out.println("| task | B | policy | split | " + recordedLabel + " acc | " + rerunLabel + " acc | " + recordedLabel + " NFE | " + rerunLabel + " NFE | verdict |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (EvalRow r : before) {
            EvalRow n = byKey.get(SweepFolder.key(r));
            String verdict = n == null ? "MISSING" : verdict(r, n);
            if (verdict.equals("identical")) same++;
            else different++;
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %.4f | %s | %.4f | %s | %s |%n", r.task(), r.blockLength(), r.policyParams(), r.split(),
                    r.accuracy(), n == null ? "-" : String.format(Locale.ROOT, "%.4f", n.accuracy()), r.meanNfe(),
                    n == null ? "-" : String.format(Locale.ROOT, "%.4f", n.meanNfe()), verdict);
        }
        if (after.length != before.length) {
            System.out.println("DIFFERENT row count: " + before.length + " " + recordedLabel + ", " + after.length + " " + rerunLabel);
            different++;
        }
        return new int[]{same, different};
    }

    /**
     * Every row of {@code other} against the row of {@code base} with the same key once the
     * policies' {@code runtime=...} entry is left out of both labels: the same policy evaluated on
     * another runtime (a learned policy with runtime=java against the SameDiff graph's committed
     * rows). {@code base} may hold more rows. Returns {identical, different or missing}.
     */
    public static int[] compareAcrossRuntimes(Path base, Path other, String baseLabel, String otherLabel) {
        EvalRow[] a = Json.read(base.resolve("eval.json"), EvalRow[].class), b = Json.read(other.resolve("eval.json"), EvalRow[].class);
        Map<String, EvalRow> byKey = new HashMap<>();
        for (EvalRow r : a) byKey.put(withoutRuntime(SweepFolder.key(r)), r);
        int same = 0, different = 0;
        System.out.println("| task | B | policy | split | " + baseLabel + " acc | " + otherLabel + " acc | " + baseLabel + " NFE | " + otherLabel + " NFE | "
                + baseLabel + " fallbacks | " + otherLabel + " fallbacks | verdict |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (EvalRow r : b) {
            EvalRow m = byKey.get(withoutRuntime(SweepFolder.key(r)));
            String verdict = m == null ? "MISSING in " + baseLabel : verdict(m, r);
            if (verdict.equals("identical")) same++;
            else different++;
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %.4f | %s | %.4f | %s | %d | %s |%n", r.task(), r.blockLength(), r.policyParams(), r.split(),
                    m == null ? "-" : String.format(Locale.ROOT, "%.4f", m.accuracy()), r.accuracy(),
                    m == null ? "-" : String.format(Locale.ROOT, "%.4f", m.meanNfe()), r.meanNfe(),
                    m == null ? "-" : String.valueOf(m.fallbackSteps()), r.fallbackSteps(), verdict);
        }
        return new int[]{same, different};
    }

    private static String withoutRuntime(String key) {
        return key.replaceAll(",runtime=[^,)]*", "").replaceAll("runtime=[^,)]*,", "");
    }

    /** "identical", or which of the compared numbers moved. */
    public static String verdict(EvalRow recorded, EvalRow now) {
        List<String> moved = new ArrayList<>();
        if (recorded.accuracy() != now.accuracy()) moved.add("accuracy");
        if (recorded.meanNfe() != now.meanNfe()) moved.add("NFE");
        if (recorded.n() != now.n()) moved.add("n");
        if (recorded.fallbackSteps() != now.fallbackSteps()) moved.add("fallback steps");
        return moved.isEmpty() ? "identical" : "DIFFERENT " + String.join(" and ", moved);
    }

    /** Every recorded CSV row's compared columns against the re-run's row with the same key; returns the differences. */
    static int compareCsv(Path recorded, Path reproduced) {
        if (!Files.isRegularFile(recorded)) return 0; // runs that wrote no CSV are compared by their JSON alone
        Map<String, Map<String, String>> before = csvByKey(recorded), after = csvByKey(reproduced);
        int different = 0;
        for (var e : before.entrySet()) {
            Map<String, String> now = after.get(e.getKey());
            if (now == null) {
                System.out.println("DIFFERENT " + recorded.getFileName() + ": row " + e.getKey() + " is not in the re-run");
                different++;
                continue;
            }
            for (String col : COMPARED) {
                String was = e.getValue().get(col);
                if (was != null && !was.equals(now.get(col))) {
                    System.out.println("DIFFERENT " + recorded.getFileName() + " row " + e.getKey() + ": " + col + " " + was + " recorded, " + now.get(col) + " reproduced");
                    different++;
                }
            }
        }
        return different;
    }

    private static Map<String, Map<String, String>> csvByKey(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (lines.isEmpty()) return Map.of();
        List<String> header = parseCsvLine(lines.get(0));
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            List<String> vals = parseCsvLine(lines.get(i));
            if (vals.size() != header.size()) throw new UnmaskException(file + " line " + (i + 1) + ": " + vals.size() + " fields, the header has " + header.size());
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) row.put(header.get(c), vals.get(c));
            String key = String.join("|", row.get("task"), row.get("gen_length"), row.get("block_length"), row.get("policy_params"),
                    row.get("seed"), row.get("n"), row.getOrDefault("split", "test"));
            out.put(key, row);
        }
        return out;
    }

    /** One CSV line as written by {@link ResultTables#csv}: fields with a comma, quote or space are quoted, quotes doubled. */
    public static List<String> parseCsvLine(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') quoted = false;
                else cur.append(c);
            } else if (c == '"') quoted = true;
            else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else cur.append(c);
        }
        out.add(cur.toString());
        return out;
    }

    /**
     * Every cell the re-run computed must be among the recorded cells, with the same numbers: a
     * deleted or edited cell file is named. Cells are matched by their row (cell file names of old
     * runs may hash other inputs).
     */
    static int compareCells(Path recorded, Path reproduced) {
        Map<String, List<EvalRow>> before = cellsByKey(recorded);
        int different = 0;
        for (Map.Entry<String, List<EvalRow>> e : cellsByKey(reproduced).entrySet()) {
            EvalRow now = e.getValue().get(0);
            List<EvalRow> was = before.getOrDefault(e.getKey(), List.of());
            if (was.isEmpty()) {
                System.out.println("MISSING cell " + e.getKey() + " in " + recorded + " (the re-run computed it)");
                different++;
            } else if (was.stream().noneMatch(r -> verdict(r, now).equals("identical"))) {
                System.out.println("DIFFERENT cell " + e.getKey() + ": " + verdict(was.get(0), now));
                different++;
            }
        }
        return different;
    }

    private static Map<String, List<EvalRow>> cellsByKey(Path cells) {
        Map<String, List<EvalRow>> out = new TreeMap<>();
        if (!Files.isDirectory(cells)) return out;
        try (Stream<Path> s = Files.list(cells)) {
            for (Path f : s.filter(SweepFolder::isCellResult).sorted().toList()) {
                EvalRow r = Json.read(f, EvalRow.class);
                out.computeIfAbsent(SweepFolder.key(r), k -> new ArrayList<>()).add(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String prefix(String sha) {
        return sha.substring(0, Math.min(12, sha.length()));
    }
}
