package dev.unmask.runs.bench;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Json;
import dev.unmask.runs.CellClaims;
import dev.unmask.runs.Worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.*;
import java.util.stream.Stream;

/**
 * What sharing a sweep's cells costs per cell, on the filesystem of a given folder (point it at
 * the shared disk a cluster's sweep will use): the claim and its release, a heartbeat of a held
 * claim, and the scan a worker makes of the sweep's result files each time it looks for the next
 * cell. Works in a scratch folder inside the one given, removed at the end.
 */
public final class ClaimBench {
    private final Path parent;
    private final int cells;
    private final int reps;

    public ClaimBench(Path parent, int cells, int reps) {
        if (cells < 1) throw new UnmaskException("--claim-cells must be at least 1, got " + cells);
        this.parent = parent;
        this.cells = cells;
        this.reps = reps;
    }

    /** The per-cell overhead in ms: claim + release + one scan of the sweep's cells. */
    public double run() {
        Path scratch;
        try {
            Files.createDirectories(parent);
            scratch = Files.createTempDirectory(parent, ".unmask-claim-bench-");
        } catch (IOException e) {
            throw new UnmaskException("cannot work in " + parent + ": " + e.getMessage());
        }
        try (CellClaims claims = new CellClaims(scratch, Duration.ofSeconds(120), Worker.current())) {
            // a sweep half done: every other cell has its result file
            Path cellDir = scratch.resolve("cells");
            Files.createDirectories(cellDir);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < cells; i++) {
                String id = String.format(Locale.ROOT, "bench-L128-B32-threshold_tau=0.9-s1-validation-%012x", i);
                ids.add(id);
                if (i % 2 == 0) Json.writeAtomically(cellDir.resolve(id + ".json"), Map.of("cell", id));
            }
            int[] k = {0};
            double claimRelease = Timing.warmThenMedian(reps, () -> {
                String id = "cycle-" + (k[0]++);
                if (!claims.tryClaim(id)) throw new IllegalStateException("claim " + id + " refused in a private folder");
                claims.release(id);
            });
            claims.tryClaim("held");
            double heartbeat = Timing.warmThenMedian(reps, claims::heartbeat);
            double lookup = Timing.warmThenMedian(reps, () -> claims.holder("held"));
            double scan = Timing.warmThenMedian(reps, () -> {
                int finished = 0;
                for (String id : ids) if (Files.isRegularFile(cellDir.resolve(id + ".json"))) finished++;
                if (finished != (cells + 1) / 2) throw new IllegalStateException("scan saw " + finished + " finished cells");
            });
            double perCell = claimRelease + scan;
            System.out.printf(Locale.ROOT, "claims in %s (%s), medians of %d reps after warm-up:%n", parent.toAbsolutePath(), fileStore(parent), reps);
            System.out.println();
            System.out.println("| operation | ms |");
            System.out.println("|---|---|");
            System.out.printf(Locale.ROOT, "| claim a cell (temp file, link, fsync) and release it | %.3f |%n", claimRelease);
            System.out.printf(Locale.ROOT, "| one heartbeat of one held claim (atomic rewrite) | %.3f |%n", heartbeat);
            System.out.printf(Locale.ROOT, "| read who holds a cell | %.3f |%n", lookup);
            System.out.printf(Locale.ROOT, "| scan %d cells' result files for the next cell to run | %.3f |%n", cells, scan);
            System.out.printf(Locale.ROOT, "| per cell: claim + release + one scan | %.3f |%n", perCell);
            System.out.println();
            System.out.println("A worker also beats every timeout/4 (30 s by default) for each claim it holds: " + String.format(Locale.ROOT, "%.3f", heartbeat)
                    + " ms per beat. Compare the per-cell figure with a cell's wall time (eval.csv's wall_ms).");
            return perCell;
        } catch (IOException e) {
            throw new UnmaskException("claim bench in " + scratch + ": " + e.getMessage());
        } finally {
            deleteTree(scratch);
        }
    }

    private static String fileStore(Path p) {
        try {
            var fs = Files.getFileStore(p);
            return "filesystem " + fs.type() + " " + fs.name();
        } catch (IOException e) {
            return "filesystem unknown";
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("unmask: warning: cannot remove " + root + ": " + e.getMessage());
        }
    }
}
