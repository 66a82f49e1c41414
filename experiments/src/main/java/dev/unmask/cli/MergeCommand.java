package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.runs.*;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * Puts sweep folders written apart (the shards of {@code sweep --shard I/N} on machines that share
 * no disk, or any sweeps on the same inputs) into one folder: every cell's files, the tables
 * rebuilt from them, and a manifest that records every invocation of every folder (so
 * {@code reproduce} re-runs each shard). Refuses a folder whose files no longer match its
 * manifest, whose inputs differ from the others' (dLLM, engine, tasks, buffer length, split, n,
 * batch), or that holds a cell with other numbers than another folder's copy of it.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge sweep folders on the same inputs (the shards of sweep --shard I/N) into OUT: cells, tables, one manifest with every invocation; refuses folders on another dLLM, task set, split or n.")
final class MergeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "OUT", description = "The merged folder: new, empty, or a sweep folder on the same inputs (its rows are kept).")
    Path out;
    @Parameters(index = "1..*", arity = "1..*", paramLabel = "DIR", description = "Sweep folders to merge into OUT.")
    List<Path> dirs;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private record Source(Path dir, JsonNode manifest, List<Map<String, Object>> invocations, String engine) {
    }

    @Override
    public Integer call() throws IOException {
        List<Source> sources = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Path outReal = out.toAbsolutePath().normalize();
        if (Files.isRegularFile(out.resolve(RunManifest.FILE))) sources.add(source(out));
        else OutputDirs.requireWritable(out, "OUT");
        seen.add(outReal);
        for (Path d : dirs) {
            if (!seen.add(d.toAbsolutePath().normalize())) {
                if (d.toAbsolutePath().normalize().equals(outReal)) continue; // OUT named again among the inputs
                throw new UnmaskException(d + " is named twice");
            }
            sources.add(source(d));
        }
        if (sources.isEmpty()) throw new UnmaskException("nothing to merge: name at least one sweep folder besides OUT");

        // one set of inputs for every invocation of every folder
        Map<String, Object> first = null;
        Path firstDir = null;
        String dllmSha = null;
        for (Source s : sources) {
            for (Map<String, Object> inv : s.invocations()) {
                Map<String, Object> in = SweepInputs.of((JsonNode) Json.MAPPER.valueToTree(inv.getOrDefault("config", Map.of())), s.engine());
                if (first == null) {
                    first = in;
                    firstDir = s.dir();
                    dllmSha = String.valueOf(in.get("dllm_sha256"));
                    continue;
                }
                String diff = SweepInputs.difference(first, in, "in " + firstDir, "in " + s.dir());
                if (diff != null) {
                    throw new UnmaskException("cannot merge " + s.dir() + " with " + firstDir + ": other inputs (" + diff + ")");
                }
            }
        }
        if (first == null) throw new UnmaskException("the folders record no invocations: nothing to merge");

        // every cell once; a cell in two folders must have the same numbers (it was computed from the same inputs)
        Map<String, Path> from = new LinkedHashMap<>();
        Map<String, EvalRow> rowOf = new HashMap<>();
        for (Source s : sources) {
            for (Map<String, Object> inv : s.invocations()) {
                if (!(inv.get("cells") instanceof List<?> ids)) continue;
                for (Object o : ids) {
                    String id = String.valueOf(o);
                    Path f = s.dir().resolve(Sweep.CELLS).resolve(id + ".json");
                    if (!Files.isRegularFile(f)) continue; // said when the tables are rebuilt
                    EvalRow r = Json.read(f, EvalRow.class);
                    EvalRow was = rowOf.putIfAbsent(id, r);
                    if (was != null) {
                        String v = RunFolderCheck.verdict(was, r);
                        if (!v.equals("identical")) {
                            throw new UnmaskException("cell " + id + " has other numbers in " + s.dir() + " than in " + from.get(id) + " (" + v.replace("DIFFERENT ", "") + "); nothing merged");
                        }
                    } else {
                        from.put(id, s.dir());
                    }
                }
            }
        }

        List<Map<String, Object>> invocations = new ArrayList<>();
        List<Map<String, Object>> mergedFrom = new ArrayList<>();
        for (Source s : sources) {
            invocations.addAll(s.invocations());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("folder", s.dir().toString());
            m.put("manifest_sha256", Checksums.sha256(s.dir().resolve(RunManifest.FILE)));
            m.put("invocations", s.invocations().size());
            mergedFrom.add(m);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) invocations.get(invocations.size() - 1).getOrDefault("config", Map.of());
        RunManifest manifest = new RunManifest("sweep", spec.commandLine().getParseResult().originalArgs(), config);
        manifest.dllmEngine(sources.get(sources.size() - 1).engine());
        manifest.result("merged_from", mergedFrom);
        for (Source s : sources) {
            JsonNode in = s.manifest().path("inputs_sha256");
            if (in.isObject()) manifest.inputsOf(Json.MAPPER.convertValue(in, Map.class));
        }
        SweepFolder.Tables tables = SweepFolder.locked(out, () -> {
            for (var e : from.entrySet()) {
                if (e.getValue().toAbsolutePath().normalize().equals(outReal)) continue;
                for (String suffix : List.of(".json", ".failures.json", ".samples.txt")) {
                    Path src = e.getValue().resolve(Sweep.CELLS).resolve(e.getKey() + suffix), dst = out.resolve(Sweep.CELLS).resolve(e.getKey() + suffix);
                    if (!Files.isRegularFile(src)) continue;
                    try {
                        if (Files.isRegularFile(dst) && Files.mismatch(src, dst) == -1) continue;
                        AtomicFiles.write(dst, Files.readAllBytes(src));
                    } catch (IOException ex) {
                        throw new UnmaskException("cannot copy " + src + " to " + dst + ": " + ex.getMessage());
                    }
                }
            }
            SweepFolder.Tables t = inPlannedOrder(SweepFolder.tables(out, manifest, invocations), invocations);
            SweepFolder.write(out, manifest, t);
            return t;
        });
        System.out.println(ResultTables.markdown(tables.rows()));
        System.out.printf("merge: %d rows from %d invocations of %d folders into %s (dLLM weights sha256 %s)%n", tables.rows().size(),
                invocations.size(), sources.size(), out, dllmSha.substring(0, Math.min(12, dllmSha.length())));
        for (String gap : missingShards(invocations)) System.err.println("unmask: warning: " + gap);
        return 0;
    }

    private static Source source(Path dir) {
        if (!Files.isDirectory(dir)) throw new UnmaskException(dir + " does not exist or is not a folder");
        Path mf = dir.resolve(RunManifest.FILE);
        if (!Files.isRegularFile(mf)) throw new UnmaskException(dir + " has no manifest.json: not a sweep folder");
        JsonNode m = Json.read(mf, JsonNode.class);
        String kind = m.path("kind").asText();
        if (!kind.equals("sweep") && !kind.equals("eval")) throw new UnmaskException(dir + " holds a " + kind + " run; merge takes sweep and eval folders");
        List<String> tampered = RunFolderCheck.outputsDiffer(dir, m);
        if (!tampered.isEmpty()) {
            throw new UnmaskException(dir + ": " + tampered.size() + " file(s) do not match its manifest (" + tampered.get(0) + "); nothing merged");
        }
        // runs that recorded no engine ran the dLLM in SameDiff
        return new Source(dir, m, SweepFolder.earlierInvocations(dir), m.path("dllm_engine").asText("samediff"));
    }

    /**
     * The rows of a sharded command in the order the unsharded command plans them (shard I's k-th
     * cell is cell I + kN of the plan), commands in the order they first appear; the rows of
     * unsharded invocations keep theirs.
     */
    static SweepFolder.Tables inPlannedOrder(SweepFolder.Tables t, List<Map<String, Object>> invocations) {
        Map<String, long[]> order = new HashMap<>();
        Map<String, Integer> group = new LinkedHashMap<>();
        long sequential = 0;
        for (Map<String, Object> inv : invocations) {
            if (!(inv.get("cells") instanceof List<?> ids)) continue;
            Shard sh = inv.get("shard") instanceof String spec ? Shard.parse(spec) : null;
            int g = group.computeIfAbsent(sh == null ? "#" + group.size() : commandKey(inv) + " #" + sh.count(), k -> group.size());
            for (int k = 0; k < ids.size(); k++) {
                long pos = sh == null ? sequential++ : sh.index() + (long) k * sh.count();
                order.putIfAbsent(String.valueOf(ids.get(k)), new long[]{g, pos});
            }
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < t.cellIds().size(); i++) idx.add(i);
        Comparator<Integer> byPlan = Comparator.comparingLong(i -> order.getOrDefault(t.cellIds().get(i), new long[]{Long.MAX_VALUE, 0})[0]);
        idx.sort(byPlan.thenComparingLong(i -> order.getOrDefault(t.cellIds().get(i), new long[]{0, Long.MAX_VALUE})[1]));
        List<String> ids = new ArrayList<>();
        List<EvalRow> rows = new ArrayList<>();
        for (int i : idx) {
            ids.add(t.cellIds().get(i));
            rows.add(t.rows().get(i));
        }
        return new SweepFolder.Tables(ids, rows, t.invocations());
    }

    /** A command's args without --shard and --out: what the shards of one sweep have in common. */
    private static String commandKey(Map<String, Object> inv) {
        List<String> key = new ArrayList<>();
        if (inv.get("args") instanceof List<?> args) {
            for (int i = 0; i < args.size(); i++) {
                String a = String.valueOf(args.get(i));
                if (a.equals("--shard") || a.equals("--out")) i++;
                else if (!a.startsWith("--shard=") && !a.startsWith("--out=")) key.add(a);
            }
        }
        return String.join(" ", key);
    }

    /** For each sharded command (its args without --shard and --out), the shards no folder brought. */
    static List<String> missingShards(List<Map<String, Object>> invocations) {
        Map<String, Set<Integer>> got = new LinkedHashMap<>();
        Map<String, Integer> count = new HashMap<>();
        for (Map<String, Object> inv : invocations) {
            if (!(inv.get("shard") instanceof String spec)) continue;
            Shard sh = Shard.parse(spec);
            String k = commandKey(inv) + " #" + sh.count();
            got.computeIfAbsent(k, x -> new TreeSet<>()).add(sh.index());
            count.put(k, sh.count());
        }
        List<String> out = new ArrayList<>();
        for (var e : got.entrySet()) {
            int n = count.get(e.getKey());
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < n; i++) if (!e.getValue().contains(i)) missing.add(i);
            if (!missing.isEmpty()) {
                out.add("shards " + missing + " of " + n + " are missing (" + e.getKey().replaceFirst(" #\\d+$", "") + "): the tables lack their cells");
            }
        }
        return out;
    }
}
