package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Work sharing between the processes that run one sweep into one folder, with no coordinator:
 * a worker claims a cell by creating {@code claims/ID.json} (create-new, through a hard link from a
 * complete temp file where the filesystem has them), holding its host, pid, token and a heartbeat it
 * rewrites every timeout/4; other workers skip claimed cells, and take over a claim whose heartbeat
 * is older than the claim's timeout by their clock, or that they have watched stay unchanged that
 * long (a worker killed with SIGKILL, a node that died). Each worker also keeps a registration in
 * {@code workers/}, so a worker started with a command on other inputs can be refused while others
 * work in the folder, and {@code unmask progress} can show who holds what.
 *
 * <p>Claims save work; correctness does not rest on them: a cell's numbers depend only on its
 * inputs, its result is written by an atomic rename, and a finished cell is never overwritten, so a
 * cell computed twice (a claim taken over from a worker that was only slow) gives the same row.
 */
public final class CellClaims implements AutoCloseable {
    public static final String CLAIMS = "claims";
    public static final String WORKERS = "workers";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A claim as another worker (or this one) left it: the file's text and what could be parsed of it. */
    public record Holder(String cell, String content, JsonNode json) {
        public String host() {
            return json == null ? "?" : json.path("host").asText("?");
        }

        public long pid() {
            return json == null ? -1 : json.path("pid").asLong(-1);
        }

        public String token() {
            return json == null ? null : json.path("token").asText(null);
        }

        /** The holder's last heartbeat by its own clock, or null when unreadable (a claim being written). */
        public Instant heartbeat() {
            return CellClaims.instant(json, "heartbeat");
        }

        public Duration timeout(Duration otherwise) {
            double s = json == null ? 0 : json.path("timeout_s").asDouble(0);
            return s > 0 ? Duration.ofMillis(Math.round(s * 1000)) : otherwise;
        }

        public String label() {
            String job = json == null ? "" : json.path("slurm").path("array_job_id").asText(json.path("slurm").path("job_id").asText(""));
            String task = json == null ? "" : json.path("slurm").path("array_task_id").asText("");
            return host() + "/" + pid() + (job.isEmpty() ? "" : " (Slurm job " + job + (task.isEmpty() ? "" : "_" + task) + ")");
        }
    }

    private record Seen(String content, long sinceNanos) {
    }

    private final Path dir;
    private final Path claimDir;
    private final Duration timeout;
    private final Worker me;
    private final Clock wall;
    private final LongSupplier nanos;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> beats = new ConcurrentHashMap<>();
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    private final Map<String, Instant> claimedAt = new ConcurrentHashMap<>();
    private final ScheduledExecutorService heart;
    private final Thread onKill;
    private volatile Map<String, Object> registration;
    private volatile Path registrationFile;
    private volatile boolean warnedHeartbeat;
    private final AtomicLong registrationBeats = new AtomicLong();

    /** Claims for this process in the sweep folder dir, with a heartbeat thread and a hook that releases them on SIGTERM / Ctrl-C. */
    public CellClaims(Path dir, Duration timeout, Worker me) {
        this(dir, timeout, me, Clock.systemUTC(), System::nanoTime, true);
    }

    /** With the clocks given and no heartbeat thread when beating is false (tests call {@link #heartbeat} themselves). */
    CellClaims(Path dir, Duration timeout, Worker me, Clock wall, LongSupplier nanos, boolean beating) {
        if (timeout.isNegative() || timeout.isZero()) throw new UnmaskException("--claim-timeout must be positive, got " + timeout.toMillis() / 1000.0 + " s");
        this.dir = dir;
        this.claimDir = dir.resolve(CLAIMS);
        this.timeout = timeout;
        this.me = me;
        this.wall = wall;
        this.nanos = nanos;
        if (beating) {
            heart = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "unmask-heartbeat");
                t.setDaemon(true);
                return t;
            });
            long period = Math.max(50, heartbeatPeriod().toMillis());
            heart.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
            onKill = new Thread(this::releaseAll, "unmask-release-claims");
            Runtime.getRuntime().addShutdownHook(onKill);
        } else {
            heart = null;
            onKill = null;
        }
    }

    public Duration timeout() {
        return timeout;
    }

    public Worker worker() {
        return me;
    }

    /** How often a holder rewrites its claims: four beats per timeout, so one late beat is no death. */
    public Duration heartbeatPeriod() {
        return timeout.dividedBy(4);
    }

    /** How often a worker with nothing to claim looks again at the claims others hold. */
    public Duration pollPeriod() {
        long ms = Math.min(5000, Math.max(100, timeout.toMillis() / 8));
        return Duration.ofMillis(ms);
    }

    Path claimFile(String cell) {
        return claimDir.resolve(cell + ".json");
    }

    public boolean holds(String cell) {
        return held.contains(cell);
    }

    /** Claims the cell if no one holds it: true when this worker now holds it. */
    public boolean tryClaim(String cell) {
        Path claim = claimFile(cell);
        byte[] content = content(cell, 0).getBytes(StandardCharsets.UTF_8);
        Path tmp = null;
        try {
            Files.createDirectories(claimDir);
            if (Files.exists(claim)) return false;
            tmp = claimDir.resolve("." + cell + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            Files.write(tmp, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                // link(2) of a complete file: atomic create-if-absent, also on NFS, and no reader ever sees half a claim
                Files.createLink(claim, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | FileSystemException e) {
                // a filesystem without hard links: create-new (O_EXCL), then write in place; a reader that
                // catches it empty sees a claim being written, which is live until it stays unchanged for the timeout
                try {
                    Files.write(claim, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
                } catch (FileAlreadyExistsException taken) {
                    return false;
                }
            }
            held.add(cell);
            beats.put(cell, new AtomicLong());
            claimedAt.putIfAbsent(cell, wall.instant());
            return true;
        } catch (IOException e) {
            throw new UnmaskException("cannot claim " + claim + ": " + e.getMessage());
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray temp file is harmless
                }
            }
        }
    }

    /** Who holds the cell now, or null when no claim file exists. */
    public Holder holder(String cell) {
        String text = readOrNull(claimFile(cell));
        return text == null ? null : new Holder(cell, text, parse(text));
    }

    /**
     * Null while the holder is alive; otherwise why it is taken for dead: its heartbeat is older
     * than the claim's timeout by this worker's clock, or this worker has watched the claim stay
     * unchanged that long (which needs no agreement between clocks).
     */
    public String staleness(Holder h) {
        long now = nanos.getAsLong();
        Seen s = seen.compute(h.cell(), (k, was) -> was != null && was.content().equals(h.content()) ? was : new Seen(h.content(), now));
        Duration limit = h.timeout(timeout);
        Duration watched = Duration.ofNanos(now - s.sinceNanos());
        if (watched.compareTo(limit) >= 0) return "unchanged for " + seconds(watched) + " s (timeout " + seconds(limit) + " s)";
        Instant beat = h.heartbeat();
        if (beat != null) {
            Duration age = Duration.between(beat, wall.instant());
            if (age.compareTo(limit) >= 0) return "heartbeat " + seconds(age) + " s old (timeout " + seconds(limit) + " s)";
        }
        return null;
    }

    /**
     * Takes over a claim judged stale: renames it aside (only one of several workers can), checks
     * that what was moved is the claim that was judged, and claims the cell anew. False when
     * another worker was faster or the holder beat in the meantime.
     */
    public boolean takeOver(Holder stale) {
        Path claim = claimFile(stale.cell());
        Path aside = claimDir.resolve("." + stale.cell() + ".taken-" + Long.toUnsignedString(RANDOM.nextLong(), 36));
        try {
            try {
                Files.move(claim, aside, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException gone) {
                return false;
            }
            String moved = readOrNull(aside);
            if (moved != null && !moved.equals(stale.content())) {
                // it changed since it was judged: the holder is alive, or it is another worker's fresh claim; put it back
                try {
                    Files.createLink(claim, aside);
                } catch (IOException | UnsupportedOperationException ignored) {
                    // the cell was claimed anew meanwhile: the displaced holder finds out at its next heartbeat
                }
                Files.deleteIfExists(aside);
                return false;
            }
            Files.deleteIfExists(aside);
            seen.remove(stale.cell());
            return tryClaim(stale.cell());
        } catch (IOException e) {
            throw new UnmaskException("cannot take over " + claim + ": " + e.getMessage());
        }
    }

    /** Gives the cell up (done, or failed): deletes the claim if it is still this worker's. */
    public void release(String cell) {
        if (!held.remove(cell)) return;
        beats.remove(cell);
        claimedAt.remove(cell);
        Path claim = claimFile(cell);
        Holder h = holder(cell);
        if (h != null && me.token().equals(h.token())) {
            try {
                Files.deleteIfExists(claim);
            } catch (IOException e) {
                throw new UnmaskException("cannot release " + claim + ": " + e.getMessage());
            }
        }
    }

    /**
     * Records this worker in workers/ with what it runs (called under the folder's lock by a sweep,
     * after it checked the live workers' inputs against its own); refreshed by the heartbeat.
     */
    public void register(Map<String, Object> plan) {
        Map<String, Object> reg = new LinkedHashMap<>(plan);
        registration = reg;
        registrationFile = dir.resolve(WORKERS).resolve(me.host().replaceAll("[^A-Za-z0-9.-]", "_") + "-" + me.pid() + "-" + me.token() + ".json");
        writeRegistration();
    }

    /** One heartbeat: every claim this worker holds and its registration get a new time. */
    public void heartbeat() {
        try {
            for (String cell : List.copyOf(held)) {
                Holder h = holder(cell);
                if (h == null || !me.token().equals(h.token())) {
                    held.remove(cell);
                    beats.remove(cell);
                    System.err.println("unmask: warning: the claim on cell " + cell + " was taken over by "
                            + (h == null ? "another worker" : h.label()) + " (this worker's heartbeat was late); the cell may be computed twice, with the same result");
                    continue;
                }
                AtomicLong b = beats.computeIfAbsent(cell, k -> new AtomicLong());
                AtomicFiles.writeString(claimFile(cell), content(cell, b.incrementAndGet()));
            }
            if (registration != null) writeRegistration();
        } catch (RuntimeException e) {
            if (!warnedHeartbeat) {
                warnedHeartbeat = true;
                System.err.println("unmask: warning: heartbeat failed (" + e.getMessage() + "); other workers may take this worker's cells over");
            }
        }
    }

    private void writeRegistration() {
        Map<String, Object> plan = registration;
        Path file = registrationFile;
        if (plan == null || file == null) return;
        Map<String, Object> reg = new LinkedHashMap<>(plan);
        reg.putAll(identity());
        reg.put("heartbeat", wall.instant().toString());
        reg.put("beats", registrationBeats.getAndIncrement());
        reg.put("held", List.copyOf(new TreeSet<>(held)));
        Json.writeAtomically(file, reg);
    }

    private Map<String, Object> identity() {
        Map<String, Object> m = new LinkedHashMap<>(me.record());
        m.put("token", me.token());
        m.put("timeout_s", timeout.toMillis() / 1000.0);
        return m;
    }

    private String content(String cell, long beat) {
        Map<String, Object> m = identity();
        m.put("cell", cell);
        m.put("claimed", claimedAt.getOrDefault(cell, wall.instant()).toString());
        m.put("heartbeat", wall.instant().toString());
        m.put("beats", beat);
        return Json.write(m) + "\n";
    }

    /** The registrations of other workers in the folder whose heartbeat is within their timeout (by this machine's clock). */
    public static List<JsonNode> liveWorkers(Path dir, Worker except, Clock wall) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode reg : registrations(dir)) {
            if (except != null && except.token().equals(reg.path("token").asText())) continue;
            if (alive(reg, wall)) out.add(reg);
        }
        return out;
    }

    /** Every registration file in workers/, live or left by a killed worker. */
    public static List<JsonNode> registrations(Path dir) {
        Path wd = dir.resolve(WORKERS);
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isDirectory(wd)) return out;
        try (Stream<Path> s = Files.list(wd)) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith(".")).sorted().toList()) {
                JsonNode reg = parse(readOrNull(f));
                if (reg != null) out.add(reg);
            }
        } catch (IOException e) {
            throw new UnmaskException("cannot list " + wd + ": " + e.getMessage());
        }
        return out;
    }

    /** A registration or claim whose heartbeat is within its timeout by the given clock. */
    public static boolean alive(JsonNode beat, Clock wall) {
        Instant hb = instant(beat, "heartbeat");
        double t = beat.path("timeout_s").asDouble(DEFAULT_TIMEOUT.toSeconds());
        return hb != null && Duration.between(hb, wall.instant()).toMillis() < t * 1000;
    }

    /**
     * This worker is done (call under the folder's lock): stops its heartbeat, gives up its claims
     * and its registration, and leaves the folder tidy: claims left on finished cells (a worker
     * killed between writing a cell and releasing it), registrations of workers dead for longer
     * than their timeout, and, when no other worker is registered, the empty claims/ and workers/.
     * New workers register under the same lock, so none is writing into a folder removed here.
     */
    public void leave(Set<String> finishedCells) {
        stopHeartbeat();
        releaseAll();
        registration = null;
        try {
            if (Files.isDirectory(claimDir)) {
                try (Stream<Path> s = Files.list(claimDir)) {
                    for (Path f : s.toList()) {
                        String name = f.getFileName().toString();
                        if (name.endsWith(".json") && finishedCells.contains(name.substring(0, name.length() - 5))) Files.deleteIfExists(f);
                    }
                }
            }
            Path workers = dir.resolve(WORKERS);
            boolean othersRegistered = false;
            if (Files.isDirectory(workers)) {
                try (Stream<Path> s = Files.list(workers)) {
                    for (Path f : s.toList()) {
                        JsonNode reg = parse(readOrNull(f));
                        if (reg != null && !alive(reg, wall)) Files.deleteIfExists(f);
                        else othersRegistered = true;
                    }
                }
            }
            if (!othersRegistered) {
                for (Path d : List.of(workers, claimDir)) {
                    if (!Files.isDirectory(d)) continue;
                    try (Stream<Path> s = Files.list(d)) {
                        if (s.findAny().isEmpty()) Files.deleteIfExists(d);
                    } catch (DirectoryNotEmptyException | NoSuchFileException ignored) {
                        // written into meanwhile
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("unmask: warning: cannot tidy " + dir + ": " + e.getMessage());
        }
    }

    private void stopHeartbeat() {
        if (heart == null) return;
        heart.shutdownNow();
        try {
            heart.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void releaseAll() {
        for (String cell : List.copyOf(held)) {
            try {
                release(cell);
            } catch (RuntimeException ignored) {
                // shutting down: the claim goes stale instead
            }
        }
        Path reg = registrationFile;
        registrationFile = null;
        if (reg != null) {
            try {
                Files.deleteIfExists(reg);
            } catch (IOException ignored) {
                // goes stale instead
            }
        }
    }

    /** Stops the heartbeat and gives up every claim and the registration. */
    @Override
    public void close() {
        stopHeartbeat();
        releaseAll();
        registration = null;
        if (onKill != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(onKill);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to
            }
        }
    }

    static Instant instant(JsonNode json, String field) {
        if (json == null || !json.hasNonNull(field)) return null;
        try {
            return Instant.parse(json.get(field).asText());
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static JsonNode parse(String text) {
        if (text == null || text.isBlank()) return null;
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static String readOrNull(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + f + ": " + e.getMessage());
        }
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f", d.toMillis() / 1000.0);
    }
}
