package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** Claims between workers of one folder, on clocks the test moves: who holds a cell, when a claim is dead, who takes it over. */
class CellClaimsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** A wall clock and a monotonic clock the test sets. */
    static final class Clocks {
        Instant wall = Instant.parse("2026-12-07T10:00:00Z");
        final AtomicLong nanos = new AtomicLong(1_000_000_000L);

        Clock clock() {
            return new Clock() {
                public java.time.ZoneId getZone() {
                    return ZoneOffset.UTC;
                }

                public Clock withZone(java.time.ZoneId zone) {
                    return this;
                }

                public Instant instant() {
                    return wall;
                }
            };
        }

        void advance(Duration d) {
            wall = wall.plus(d);
            nanos.addAndGet(d.toNanos());
        }
    }

    private static CellClaims worker(Path dir, String host, long pid, Clocks c) {
        return new CellClaims(dir, TIMEOUT, new Worker(host, pid, host + pid, Map.of("array_task_id", Long.toString(pid % 10))), c.clock(), c.nanos::get, false);
    }

    @Test
    void aCellHasOneHolderAtATimeAndIsFreeAgainWhenReleased(@TempDir Path dir) {
        Clocks c = new Clocks();
        CellClaims a = worker(dir, "node-a", 11, c), b = worker(dir, "node-b", 22, c);
        assertTrue(a.tryClaim("cell1"));
        assertFalse(b.tryClaim("cell1"), "held by a");
        assertFalse(a.tryClaim("cell1"), "a claim is create-new, even for its holder");
        CellClaims.Holder h = b.holder("cell1");
        assertEquals("node-a", h.host());
        assertEquals(11, h.pid());
        assertEquals(c.wall, h.heartbeat());
        assertNull(b.staleness(h), "a fresh claim is alive");
        assertTrue(b.tryClaim("cell2"), "other cells are free");
        a.release("cell1");
        assertNull(b.holder("cell1"));
        assertTrue(b.tryClaim("cell1"));
        // releasing a cell another worker holds now leaves that claim alone
        a.release("cell1");
        assertEquals("node-b", a.holder("cell1").host());
    }

    @Test
    void aClaimWhoseHeartbeatIsOlderThanTheTimeoutIsTakenOverByOneWorker(@TempDir Path dir) {
        Clocks c = new Clocks();
        CellClaims a = worker(dir, "node-a", 11, c), b = worker(dir, "node-b", 22, c), d = worker(dir, "node-d", 33, c);
        assertTrue(a.tryClaim("cell"));
        c.advance(TIMEOUT.dividedBy(4));
        a.heartbeat(); // alive: a beats every timeout/4
        c.advance(TIMEOUT.minusSeconds(1));
        assertNull(b.staleness(b.holder("cell")), "the last beat is 59 s old: alive");
        c.advance(Duration.ofSeconds(1));
        CellClaims.Holder dead = b.holder("cell");
        String why = b.staleness(dead);
        assertNotNull(why, "60 s without a beat: dead");
        assertTrue(why.startsWith("heartbeat 60.0 s old"), why);
        CellClaims.Holder seenByD = d.holder("cell");
        assertNotNull(d.staleness(seenByD));

        assertTrue(b.takeOver(dead));
        assertTrue(b.holds("cell"));
        assertEquals("node-b", b.holder("cell").host());
        assertFalse(d.takeOver(seenByD), "d judged the same dead claim, but b was first: b's fresh claim stays");
        assertEquals("node-b", d.holder("cell").host());
        assertEquals(List.of(), leftovers(dir), "nothing left aside");

        // a, only slow, beats again: it finds the claim is no longer its own and leaves b's alone
        a.heartbeat();
        assertFalse(a.holds("cell"));
        assertEquals("node-b", a.holder("cell").host());
    }

    @Test
    void aClaimThatStaysUnchangedForTheTimeoutIsDeadWhateverTheHoldersClockSays(@TempDir Path dir) {
        Clocks holderClock = new Clocks(), watcherClock = new Clocks();
        holderClock.wall = holderClock.wall.plus(Duration.ofHours(1)); // the holder's clock runs an hour ahead
        CellClaims a = worker(dir, "node-a", 11, holderClock), b = worker(dir, "node-b", 22, watcherClock);
        assertTrue(a.tryClaim("cell"));
        assertNull(b.staleness(b.holder("cell")), "first look");
        watcherClock.advance(Duration.ofSeconds(40));
        assertNull(b.staleness(b.holder("cell")));
        holderClock.advance(Duration.ofSeconds(40));
        a.heartbeat(); // a beat: the watch starts over
        watcherClock.advance(Duration.ofSeconds(40));
        assertNull(b.staleness(b.holder("cell")), "beat 0 s ago by the watch");
        watcherClock.advance(Duration.ofSeconds(59));
        assertNull(b.staleness(b.holder("cell")));
        watcherClock.advance(Duration.ofSeconds(1));
        String why = b.staleness(b.holder("cell"));
        assertNotNull(why);
        assertTrue(why.startsWith("unchanged for 60.0 s"), why);
    }

    @Test
    void theClaimsOwnTimeoutDecides(@TempDir Path dir) {
        Clocks c = new Clocks();
        CellClaims quick = new CellClaims(dir, Duration.ofSeconds(4), new Worker("node-a", 11, "t11", Map.of()), c.clock(), c.nanos::get, false);
        CellClaims patient = worker(dir, "node-b", 22, c); // its own timeout is 60 s
        assertTrue(quick.tryClaim("cell"));
        c.advance(Duration.ofSeconds(4));
        assertNotNull(patient.staleness(patient.holder("cell")), "the holder promised a beat every second: 4 s of silence is death");
    }

    @Test
    void registrationsShowWhoIsAliveAndLeavingTidiesTheFolder(@TempDir Path dir) {
        Clocks c = new Clocks();
        CellClaims a = worker(dir, "node-a", 11, c), b = worker(dir, "node-b", 22, c);
        a.register(Map.of("inputs", Map.of("n", 40)));
        b.register(Map.of("inputs", Map.of("n", 40)));
        assertTrue(a.tryClaim("done-cell"));
        assertEquals(List.of("node-b"), CellClaims.liveWorkers(dir, a.worker(), c.clock()).stream().map(r -> r.path("host").asText()).toList());
        c.advance(TIMEOUT);
        b.heartbeat();
        assertEquals(List.of("node-b"), CellClaims.liveWorkers(dir, a.worker(), c.clock()).stream().map(r -> r.path("host").asText()).toList());
        assertEquals(List.of(), CellClaims.liveWorkers(dir, b.worker(), c.clock()), "a stopped beating 60 s ago");
        // b leaves last: a's stale registration and a's claim on a finished cell go, and with them the folders
        b.leave(Set.of("done-cell"));
        assertFalse(Files.exists(dir.resolve(CellClaims.WORKERS)), "workers/ removed");
        assertFalse(Files.exists(dir.resolve(CellClaims.CLAIMS)), "claims/ removed");
    }

    @Test
    void slurmIdsComeFromTheEnvironment() {
        Map<String, String> slurm = Worker.slurmOf(Map.of("SLURM_JOB_ID", "1043", "SLURM_ARRAY_JOB_ID", "1041", "SLURM_ARRAY_TASK_ID", "2",
                "SLURMD_NODENAME", "gpu-07", "HOME", "/root"));
        assertEquals(Map.of("job_id", "1043", "array_job_id", "1041", "array_task_id", "2", "node", "gpu-07"), slurm);
        Worker w = new Worker("gpu-07.cluster", 4711, "t", slurm);
        assertEquals("gpu-07.cluster/4711 (Slurm job 1041_2)", w.label());
        JsonNode rec = Json.MAPPER.valueToTree(w.record());
        assertEquals("2", rec.path("slurm").path("array_task_id").asText());
        assertTrue(Worker.slurmOf(Map.of()).isEmpty());
    }

    private static List<String> leftovers(Path dir) {
        try (var s = Files.list(dir.resolve(CellClaims.CLAIMS))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
