package dev.unmask.cli;

import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.graph.PolicyNet;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.runs.RunFolderCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.Stream;

import static dev.unmask.cli.CliTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** Run folders tell the truth: reproduce checks them, shared sweep folders keep every writer's rows, and runs say which dLLM ran. */
class RunFolderTest {
    private static final String[] GRID = {"--tasks", "sort", "--block-lengths", "full", "--n", "4", "--workers", "1"};

    private static String[] sweep(Path dllm, Path out, String policies) {
        List<String> args = new ArrayList<>(List.of("sweep", "--dllm", dllm.toString(), "--out", out.toString(), "--policies", policies));
        args.addAll(List.of(GRID));
        return args.toArray(new String[0]);
    }

    @Test
    void reproduceNamesEveryFileThatNoLongerMatchesItsManifest(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), run = dir.resolve("run");
        assertEquals(0, run(sweep(ck, run, "threshold:tau=0.5|0.9")).code());
        Run intact = run("reproduce", run.toString(), "--scratch", dir.resolve("s0").toString());
        assertEquals(0, intact.code(), intact.out() + intact.err());
        assertTrue(intact.out().contains("reproduce: 2 identical, 0 different"), intact.out());
        assertEquals(0, run("reproduce", run.toString(), "--files-only").code());

        // a manifest cut short: one line naming it, not a stack trace
        Path cut = copy(run, dir.resolve("cut-manifest"));
        Files.writeString(cut.resolve("manifest.json"), Files.readString(cut.resolve("manifest.json")).substring(0, 40));
        assertOneLineError(run("reproduce", cut.toString(), "--files-only"), "cannot read " + cut.resolve("manifest.json"));

        // one accuracy edited in eval.csv
        Path editedCsv = copy(run, dir.resolve("edited-csv"));
        replaceFirstAccuracy(editedCsv.resolve("eval.csv"));
        Run r = run("reproduce", editedCsv.toString(), "--scratch", dir.resolve("s1").toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("CHANGED " + editedCsv.resolve("eval.csv")), r.out());
        assertFalse(Files.exists(dir.resolve("s1")), "nothing re-run on a tampered folder");

        // an output checksum edited in manifest.json
        Path editedManifest = copy(run, dir.resolve("edited-manifest"));
        ObjectNode m = (ObjectNode) Json.read(editedManifest.resolve("manifest.json"), JsonNode.class);
        ((ObjectNode) m.get("outputs_sha256")).put("eval.json", "0".repeat(64));
        Json.writeAtomically(editedManifest.resolve("manifest.json"), m);
        r = run("reproduce", editedManifest.toString(), "--files-only");
        assertEquals(1, r.code());
        assertTrue(r.out().contains("CHANGED " + editedManifest.resolve("eval.json")), r.out());

        // one file under cells/ deleted
        Path deleted = copy(run, dir.resolve("deleted-cell"));
        Path samples = cellFiles(deleted).stream().filter(p -> p.toString().endsWith(".samples.txt")).findFirst().orElseThrow();
        Files.delete(samples);
        r = run("reproduce", deleted.toString(), "--files-only");
        assertEquals(1, r.code());
        assertTrue(r.out().contains("MISSING " + samples), r.out());

        // an edit the manifest was re-signed for: the re-run compares every row of eval.csv and eval.json
        Path resigned = copy(run, dir.resolve("resigned"));
        replaceFirstAccuracy(resigned.resolve("eval.csv"));
        JsonNode rows = Json.read(resigned.resolve("eval.json"), JsonNode.class);
        ObjectNode second = (ObjectNode) rows.get(1);
        second.put("fallback_steps", second.get("fallback_steps").asLong() + 1);
        Json.writeAtomically(resigned.resolve("eval.json"), rows);
        resign(resigned, "eval.csv", "eval.json");
        r = run("reproduce", resigned.toString(), "--scratch", dir.resolve("s2").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("DIFFERENT eval.csv row") && r.out().contains(": accuracy "), r.out());
        assertTrue(r.out().contains("DIFFERENT fallback steps"), r.out());

        // a manifest that vouches for no cell (written before cells were recorded): the re-run names a deleted cell
        Path older = copy(run, dir.resolve("older"));
        ObjectNode om = (ObjectNode) Json.read(older.resolve("manifest.json"), JsonNode.class);
        List<String> cellKeys = new ArrayList<>();
        om.get("outputs_sha256").fieldNames().forEachRemaining(k -> {
            if (k.startsWith("cells/")) cellKeys.add(k);
        });
        ((ObjectNode) om.get("outputs_sha256")).remove(cellKeys);
        Json.writeAtomically(older.resolve("manifest.json"), om);
        Files.delete(cellFiles(older).stream().filter(CliTest::isCellResult).findFirst().orElseThrow());
        r = run("reproduce", older.toString(), "--scratch", dir.resolve("s3").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("MISSING cell sort|32|32|"), r.out());
    }

    @Test
    void twoSweepsIntoOneFolderKeepEveryRowAndRecordBothInvocations(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), shared = dir.resolve("D");
        List<Integer> codes = together(sweep(ck, shared, "threshold:tau=0.5|0.7|0.9"), sweep(ck, shared, "topk:steps=8|16|32"));
        assertEquals(List.of(0, 0), codes);
        List<String> csv = Files.readAllLines(shared.resolve("eval.csv"));
        assertEquals(1 + 6, csv.size(), String.join("\n", csv));
        for (String p : List.of("tau=0.5", "tau=0.7", "tau=0.9", "steps=8", "steps=16", "steps=32")) {
            assertTrue(csv.stream().anyMatch(l -> l.contains(p)), p + " in " + csv);
        }
        assertEquals(6, Json.read(shared.resolve("eval.json"), JsonNode.class).size());
        JsonNode manifest = Json.read(shared.resolve("manifest.json"), JsonNode.class);
        assertEquals(2, manifest.get("invocations").size(), "both invocations recorded");
        assertEquals(6, manifest.get("results").get("rows").asInt());
        Run r = run("reproduce", shared.toString(), "--scratch", dir.resolve("scratch").toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reproduce: 6 identical, 0 different"), r.out());

        // two identical sweeps started together give the tables of one
        Path twice = dir.resolve("E"), once = dir.resolve("F");
        assertEquals(List.of(0, 0), together(sweep(ck, twice, "threshold:tau=0.5|0.9"), sweep(ck, twice, "threshold:tau=0.5|0.9")));
        assertEquals(0, run(sweep(ck, once, "threshold:tau=0.5|0.9")).code());
        assertEquals(withoutWallTime(once.resolve("eval.csv")), withoutWallTime(twice.resolve("eval.csv")));
        assertEquals(0, run("reproduce", twice.toString(), "--files-only").code(), "the manifest vouches for the files the last writer left");

        // a policy checkpoint one invocation read stays pinned after a later invocation that read none
        Path policy = dir.resolve("policy"), mixed = dir.resolve("G");
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(1)));
        assertEquals(0, run(sweep(ck, mixed, "learned:path=" + policy)).code());
        assertEquals(0, run(sweep(ck, mixed, "topk:steps=32")).code());
        JsonNode inputs = Json.read(mixed.resolve("manifest.json"), JsonNode.class).get("inputs_sha256");
        assertTrue(inputs.has("policy_weights:" + policy.resolve(PolicyCheckpoint.WEIGHTS)), inputs.toString());
    }

    @Test
    void aFolderWrittenBeforeInvocationsWereRecordedKeepsItsRowsWhenASweepJoinsIt(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), d = dir.resolve("D");
        assertEquals(0, run(sweep(ck, d, "threshold:tau=0.5")).code());
        writtenBeforeInvocations(d);
        assertEquals(0, run(sweep(ck, d, "topk:steps=32")).code());
        assertEquals(1 + 2, Files.readAllLines(d.resolve("eval.csv")).size(), "the older run's row and the new one");
        assertEquals(2, Json.read(d.resolve("manifest.json"), JsonNode.class).get("invocations").size());

        // committed without its cells, the older run's rows cannot be rebuilt: said in one line, not dropped silently
        Path e = dir.resolve("E");
        assertEquals(0, run(sweep(ck, e, "threshold:tau=0.5")).code());
        writtenBeforeInvocations(e);
        for (Path f : cellFiles(e)) Files.delete(f);
        Run r = run(sweep(ck, e, "topk:steps=32"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("1 of the 1 rows in " + e.resolve("eval.json") + " have no cell file"), r.err());
        assertEquals(1 + 1, Files.readAllLines(e.resolve("eval.csv")).size());
    }

    /** The manifest as eval and sweep wrote it before they recorded invocations. */
    private static void writtenBeforeInvocations(Path run) {
        ObjectNode m = (ObjectNode) Json.read(run.resolve("manifest.json"), JsonNode.class);
        m.remove("invocations");
        Json.writeAtomically(run.resolve("manifest.json"), m);
    }

    @Test
    void everyCommandTakesDllmAndSaysWhichOneRan(@TempDir Path dir) {
        Path ck = tinyCheckpoint(dir);
        String sha = DllmCheckpoint.weightsSha256(ck).substring(0, 12);
        String line = "dLLM: " + ck + " (weights sha256 " + sha + ", engine onnxruntime)";
        String[] rest = {"--tasks", "sort", "--block-lengths", "full", "--n", "2", "--policies", "topk:steps=32"};
        for (String flag : List.of("--dllm", "--checkpoint")) {
            for (String cmd : List.of("eval", "sweep")) {
                List<String> args = new ArrayList<>(List.of(cmd, flag, ck.toString(), "--out", dir.resolve(cmd + flag).toString()));
                args.addAll(List.of(rest));
                Run r = run(args.toArray(new String[0]));
                assertEquals(0, r.code(), r.err());
                assertTrue(r.err().contains(line), cmd + " " + flag + ": " + r.err());
            }
            Run e = run("dllm", "eval", flag, ck.toString(), "--tasks", "sort", "--n", "2");
            assertEquals(0, e.code(), e.err());
            assertTrue(e.err().contains(line), e.err());
            Run p = run("dllm", "probe", flag, ck.toString(), "--tasks", "sort", "--n", "2");
            assertEquals(0, p.code(), p.err());
            assertTrue(p.err().contains(line), p.err());
        }
        // reproduce re-runs a command recorded with the older name
        Run again = run("reproduce", dir.resolve("eval--checkpoint").toString(), "--scratch", dir.resolve("s").toString());
        assertEquals(0, again.code(), again.err());
    }

    @Test
    void aPolicyTrainedOnAnotherDllmIsEvaluatedWithAWarningAndShowsItsDllmInTheRow(@TempDir Path dir) {
        Path ck = tinyCheckpoint(dir), other = tinyCheckpoint(dir, "other-dllm", 2);
        Path policy = dir.resolve("policy");
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("dllm_sha256", DllmCheckpoint.weightsSha256(other));
        provenance.put("dllm_path", other.toString());
        provenance.put("task", "sort");
        provenance.put("gen_length", 32);
        provenance.put("block_length", 32);
        provenance.put("reward", "correct");
        provenance.put("features", List.of("confidence"));
        provenance.put("algorithm", "grpo");
        provenance.put("seed", 1);
        provenance.put("iterations", 1);
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(1)), Json.MAPPER.convertValue(provenance, PolicyProvenance.class));
        String spec = "learned:path=" + policy;

        Run transfer = run("eval", "--dllm", ck.toString(), "--tasks", "sort", "--block-lengths", "full", "--n", "2", "--policies", spec,
                "--out", dir.resolve("transfer").toString());
        assertEquals(0, transfer.code(), transfer.err());
        List<String> warnings = transfer.err().lines().filter(l -> l.startsWith("unmask: warning: policy " + policy)).toList();
        assertEquals(1, warnings.size(), transfer.err());
        assertTrue(warnings.get(0).contains("trained on dLLM " + other) && warnings.get(0).contains("this evaluation runs dLLM " + ck)
                && warnings.get(0).contains("(dLLM differs)"), warnings.get(0));
        JsonNode row = Json.read(dir.resolve("transfer/eval.json"), JsonNode.class).get(0);
        assertEquals(other + " weights-sha256=" + DllmCheckpoint.weightsSha256(other).substring(0, 16), row.get("policy_dllm").asText());

        Run home = run("eval", "--dllm", other.toString(), "--tasks", "sort", "--block-lengths", "full", "--n", "2", "--policies", spec,
                "--out", dir.resolve("home").toString());
        assertEquals(0, home.code(), home.err());
        assertFalse(home.err().contains("warning"), "same dLLM, task and L: no warning: " + home.err());
        Run rule = run("eval", "--dllm", ck.toString(), "--tasks", "sort", "--block-lengths", "full", "--n", "2", "--policies", "topk:steps=32",
                "--out", dir.resolve("rule").toString());
        assertEquals(0, rule.code(), rule.err());
        assertTrue(Json.read(dir.resolve("rule/eval.json"), JsonNode.class).get(0).get("policy_dllm").isNull(), "rules were trained on nothing");
    }

    /** Runs two commands at the same moment, each on its own thread; their exit codes in order. */
    private static List<Integer> together(String[] a, String[] b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch start = new CountDownLatch(1);
            Callable<Integer> ra = () -> {
                start.await();
                return Main.commandLine().execute(a);
            }, rb = () -> {
                start.await();
                return Main.commandLine().execute(b);
            };
            Future<Integer> fa = pool.submit(ra), fb = pool.submit(rb);
            start.countDown();
            return List.of(fa.get(5, TimeUnit.MINUTES), fb.get(5, TimeUnit.MINUTES));
        } finally {
            pool.shutdownNow();
        }
    }


    private static void replaceFirstAccuracy(Path csv) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(csv));
        int col = RunFolderCheck.parseCsvLine(lines.get(0)).indexOf("accuracy");
        List<String> f = new ArrayList<>(RunFolderCheck.parseCsvLine(lines.get(1)));
        f.set(col, f.get(col).equals("1.0000") ? "0.7500" : "1.0000");
        lines.set(1, String.join(",", f.stream().map(v -> v.contains(",") || v.contains(" ") ? "\"" + v + "\"" : v).toList()));
        Files.write(csv, lines);
    }

    private static void resign(Path run, String... files) {
        ObjectNode m = (ObjectNode) Json.read(run.resolve("manifest.json"), JsonNode.class);
        for (String f : files) ((ObjectNode) m.get("outputs_sha256")).put(f, Checksums.sha256(run.resolve(f)));
        Json.writeAtomically(run.resolve("manifest.json"), m);
    }

    private static List<Path> cellFiles(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("cells"))) {
            return s.sorted().toList();
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return to;
    }
}
