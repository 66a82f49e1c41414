package dev.unmask.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.io.Json;
import dev.unmask.runs.CellClaims;
import dev.unmask.runs.RunFolderCheck;
import dev.unmask.runs.SweepInputs;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.Stream;

import static dev.unmask.cli.CliTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** Sweeps split across workers and machines: claims taken over from dead workers, shards merged, workers on other inputs refused. */
class SweepClusterTest {
    private static final String POLICIES = "threshold:tau=0.5|0.7|0.9,topk:steps=8";

    private static String[] sweep(Path dllm, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--dllm", dllm.toString(), "--out", out.toString(), "--tasks", "sort",
                "--block-lengths", "8,full", "--n", "4", "--workers", "1", "--policies", POLICIES));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    @Test
    void aDeadWorkersClaimIsTakenOverAfterItsTimeoutAndTheTableEqualsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), once = dir.resolve("once"), shared = dir.resolve("shared");
        assertEquals(0, run(sweep(ck, once)).code());
        List<String> ids = cellIds(once);
        assertEquals(8, ids.size());
        // a worker on another node claimed the third cell and died in it: its claim is fresh now and never beats again
        String dead = ids.get(2);
        ObjectNode claim = Json.object().put("host", "node-gone").put("pid", 4242).put("token", "dead").put("timeout_s", 1.5)
                .put("cell", dead).put("heartbeat", Instant.now().toString()).put("beats", 7);
        Json.writeAtomically(shared.resolve(CellClaims.CLAIMS).resolve(dead + ".json"), claim);

        long t0 = System.nanoTime();
        Run r = run(sweep(ck, shared, "--claim-timeout", "1.5"));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("took over cell " + dead + " from node-gone/4242: its claim was "), r.err());
        assertTrue(seconds >= 1.4, "the claim was alive for its 1.5 s timeout, taken over only then (" + seconds + " s)");
        assertEquals(withoutWallTime(once.resolve("eval.csv")), withoutWallTime(shared.resolve("eval.csv")), "complete, and the numbers of an uninterrupted run");
        JsonNode inv = Json.read(shared.resolve("manifest.json"), JsonNode.class).get("invocations").get(0);
        assertEquals(List.of(dead), texts(inv.get("taken_over")));
        assertEquals(8, inv.get("computed").size());
        assertTrue(inv.get("worker").has("pid"), inv.toString());
        assertFalse(Files.exists(shared.resolve(CellClaims.CLAIMS)), "no claim left behind");
        assertFalse(Files.exists(shared.resolve(CellClaims.WORKERS)));
    }

    @Test
    void shardsRunTheirShareAndMergeIntoTheTableOfOneRun(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), once = dir.resolve("once"), merged = dir.resolve("merged");
        assertEquals(0, run(sweep(ck, once)).code());
        List<Path> shards = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path s = dir.resolve("shard-" + i);
            assertEquals(0, run(sweep(ck, s, "--shard", i + "/3")).code());
            shards.add(s);
        }
        assertEquals(List.of(3, 3, 2), shards.stream().map(s -> lines(s.resolve("eval.csv")) - 1).toList(), "every third cell from the shard's index");

        // one shard first: merge says which are missing
        Run partial = run("merge", merged.toString(), shards.get(2).toString());
        assertEquals(0, partial.code(), partial.err());
        assertTrue(partial.err().contains("shards [0, 1] of 3 are missing"), partial.err());
        Run rest = run("merge", merged.toString(), shards.get(0).toString(), shards.get(1).toString());
        assertEquals(0, rest.code(), rest.err());
        assertFalse(rest.err().contains("missing"), rest.err());
        assertEquals(withoutWallTime(once.resolve("eval.csv")), withoutWallTime(merged.resolve("eval.csv")), "the merged rows, in the order of one run");
        Run cmp = run("compare", once.toString(), merged.toString());
        assertEquals(0, cmp.code(), cmp.out());
        assertTrue(cmp.out().contains("compare: 8 identical, 0 different"), cmp.out());
        JsonNode m = Json.read(merged.resolve("manifest.json"), JsonNode.class);
        assertEquals(3, m.get("invocations").size());
        Run rep = run("reproduce", merged.toString(), "--scratch", dir.resolve("scratch").toString());
        assertEquals(0, rep.code(), rep.out() + rep.err());
        assertTrue(rep.out().contains("reproduce: 8 identical, 0 different"), rep.out());

        // a folder on other inputs, a tampered folder, a bad shard: one line each, nothing merged
        Path nFour = shards.get(0), nSix = dir.resolve("n-six");
        List<String> args = new ArrayList<>(List.of(sweep(ck, nSix, "--shard", "1/3")));
        args.set(args.indexOf("--n") + 1, "6");
        assertEquals(0, run(args.toArray(new String[0])).code());
        assertOneLineError(run("merge", dir.resolve("m2").toString(), nFour.toString(), nSix.toString()),
                "cannot merge " + nSix + " with " + nFour + ": other inputs (n 4 in " + nFour + ", 6 in " + nSix + ")");
        assertFalse(Files.exists(dir.resolve("m2").resolve("eval.csv")));
        Path other = tinyCheckpoint(dir, "dllm-other", 7), otherDllm = dir.resolve("other-dllm");
        assertEquals(0, run(sweep(other, otherDllm, "--shard", "1/3")).code());
        assertOneLineError(run("merge", dir.resolve("m3").toString(), nFour.toString(), otherDllm.toString()), "other inputs (dLLM (weights sha256)");
        Path tampered = copy(shards.get(1), dir.resolve("tampered"));
        Files.writeString(tampered.resolve("eval.md"), "edited\n");
        assertOneLineError(run("merge", dir.resolve("m4").toString(), tampered.toString()), tampered + ": 1 file(s) do not match its manifest");
        assertOneLineError(run(sweep(ck, dir.resolve("x"), "--shard", "3/3")), "--shard 3/3: I must be in 0..2");
        assertOneLineError(run(sweep(ck, dir.resolve("x"), "--shard", "half")), "--shard half: expected I/N");
        assertOneLineError(run(sweep(ck, dir.resolve("x"), "--claim-timeout", "0")), "--claim-timeout must be a positive number of seconds");
    }

    @Test
    void aWorkerOnOtherInputsIsRefusedWhileOthersWorkInTheFolder(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), first = dir.resolve("first"), shared = dir.resolve("shared");
        assertEquals(0, run(sweep(ck, first)).code());
        JsonNode fm = Json.read(first.resolve("manifest.json"), JsonNode.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> inputs = SweepInputs.of(Json.MAPPER.convertValue(fm.get("config"), Map.class), fm.get("dllm_engine").asText());

        // a live worker of the same inputs, running other policies: compatible, the newcomer joins
        plantLiveWorker(shared, "node-a", inputs);
        Run joined = run("sweep", "--dllm", ck.toString(), "--out", shared.toString(), "--tasks", "sort", "--block-lengths", "full", "--n", "4",
                "--workers", "1", "--policies", "topk:steps=16");
        assertEquals(0, joined.code(), joined.err());

        // a live worker on n = 40: a sweep with n = 4 is refused in one line, and writes nothing
        Path busy = dir.resolve("busy");
        Map<String, Object> otherN = new LinkedHashMap<>(inputs);
        otherN.put("n", 40);
        plantLiveWorker(busy, "node-b", otherN);
        assertOneLineError(run(sweep(ck, busy)), busy + " is being swept by node-b/77 on other inputs (n 40 there, 4 here)");
        assertFalse(Files.exists(busy.resolve("cells")), "no cell computed");
        assertFalse(Files.exists(busy.resolve("manifest.json")));

        // once that worker is dead (no heartbeat for its timeout) the folder is free again
        ObjectNode reg = (ObjectNode) Json.read(registration(busy), JsonNode.class);
        reg.put("heartbeat", Instant.now().minusSeconds(601).toString()); // its timeout is 600 s
        Json.writeAtomically(registration(busy), reg);
        Run after = run(sweep(ck, busy));
        assertEquals(0, after.code(), after.err());
        assertFalse(Files.exists(busy.resolve(CellClaims.WORKERS)), "the dead worker's registration tidied away");

        // progress reads a folder while it is worked on, and says who holds what
        plantLiveWorker(shared, "node-c", inputs);
        Run p = run("progress", shared.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains(shared + ": 1 of 1 cells finished (100%); 2 worker(s) running, 1 finished invocation(s) recorded"), p.out());
        assertTrue(p.out().contains("| node-c/77 | 1041_3 |"), p.out());
        assertOneLineError(run("progress", dir.resolve("nothing").toString()), "does not exist");
    }

    /**
     * The real thing: a worker JVM is killed with SIGKILL in the middle of a cell; another worker
     * takes the cell over once the dead claim's timeout has passed, and the table is complete and
     * identical to an uninterrupted run's.
     */
    @Test
    @Tag("slow")
    void aWorkerKilledInTheMiddleOfACellLeavesItToAnotherAfterTheTimeout(@TempDir Path dir) throws Exception {
        Path models = ShippedModelsTest.modelsDir();
        Path once = dir.resolve("once"), shared = dir.resolve("shared");
        String[] grid = {"sweep", "--dllm", models.resolve("dllm-t4").toString(), "--tasks", "lag48", "--block-lengths", "32,full",
                "--policies", "threshold:tau=0.9|0.99,topk:steps=64", "--n", "40", "--workers", "1", "--claim-timeout", "3"};
        assertEquals(0, run(concat(grid, "--out", once.toString())).code());

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(concat(grid, "--out", shared.toString())));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process victim = pb.start();
        String cell = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (cell == null && System.nanoTime() < deadline && victim.isAlive()) {
                cell = claimedBy(shared, victim.pid());
                if (cell == null) Thread.sleep(20);
            }
            assertNotNull(cell, "the worker never claimed a cell: " + Files.readString(dir.resolve("killed.log")));
        } finally {
            victim.destroyForcibly(); // SIGKILL: no shutdown hook releases its claim
            victim.waitFor(30, TimeUnit.SECONDS);
        }
        assertEquals(cell, claimedBy(shared, victim.pid()), "killed in the middle of the cell: its claim is still there");
        assertFalse(Files.isRegularFile(shared.resolve("cells").resolve(cell + ".json")), "and the cell unfinished");

        Run r = run(concat(grid, "--out", shared.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("took over cell " + cell + " from "), r.err());
        assertTrue(r.err().contains("/" + victim.pid() + ": its claim was "), r.err());
        assertEquals(withoutWallTime(once.resolve("eval.csv")), withoutWallTime(shared.resolve("eval.csv")), "complete, and identical to the uninterrupted run");
        JsonNode m = Json.read(shared.resolve("manifest.json"), JsonNode.class);
        assertEquals(1, m.get("invocations").size(), "the killed worker never recorded an invocation");
        assertEquals(List.of(cell), texts(m.get("invocations").get(0).get("taken_over")));
        assertFalse(Files.exists(shared.resolve(CellClaims.CLAIMS)));
    }

    /** The cell a process holds a claim on in the folder, or null. */
    private static String claimedBy(Path folder, long pid) throws IOException {
        Path claims = folder.resolve(CellClaims.CLAIMS);
        if (!Files.isDirectory(claims)) return null;
        try (Stream<Path> s = Files.list(claims)) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith(".")).toList()) {
                try {
                    JsonNode c = Json.MAPPER.readTree(Files.readString(f));
                    if (c.path("pid").asLong() == pid) return c.path("cell").asText();
                } catch (IOException gone) {
                    // released or replaced by a heartbeat just now
                }
            }
        }
        return null;
    }

    private static void plantLiveWorker(Path folder, String host, Map<String, Object> inputs) {
        ObjectNode reg = Json.object().put("host", host).put("pid", 77).put("token", host + "-token").put("timeout_s", 600.0)
                .put("heartbeat", Instant.now().toString()).put("beats", 1);
        reg.putObject("slurm").put("array_job_id", "1041").put("array_task_id", "3");
        reg.set("inputs", Json.MAPPER.valueToTree(inputs));
        reg.putArray("cells");
        reg.putArray("held");
        Json.writeAtomically(folder.resolve(CellClaims.WORKERS).resolve(host + ".json"), reg);
    }

    private static Path registration(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder.resolve(CellClaims.WORKERS))) {
            return s.findFirst().orElseThrow();
        }
    }

    private static List<String> cellIds(Path run) {
        List<String> ids = new ArrayList<>();
        for (JsonNode inv : Json.read(run.resolve("manifest.json"), JsonNode.class).get("invocations")) ids.addAll(texts(inv.get("cells")));
        return ids;
    }

    private static List<String> texts(JsonNode arr) {
        List<String> out = new ArrayList<>();
        if (arr != null) arr.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static int lines(Path f) {
        try {
            return Files.readAllLines(f).size();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }


    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
        return to;
    }
}
