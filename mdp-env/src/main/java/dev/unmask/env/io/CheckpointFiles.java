package dev.unmask.env.io;

import dev.unmask.env.UnmaskException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A checkpoint is a folder of files plus {@code checksums.json} (SHA-256 of each). Shared by the
 * dLLM and the policy checkpoints and the trainers' states.
 *
 * <p>{@link #write} replaces the whole folder so that a kill at any moment leaves either the
 * previous complete checkpoint or the new one: the files go into a sibling {@code NAME.tmp-*}
 * folder, then the previous folder is renamed to {@code NAME.old}, the new one to {@code NAME},
 * and {@code NAME.old} is deleted. A reader that finds no {@code NAME} but a {@code NAME.old}
 * (a kill between the two renames) reads that; the next write cleans up whatever a kill left.
 */
public final class CheckpointFiles {
    public static final String CHECKSUMS = "checksums.json";
    private static final String TEMP_INFIX = ".tmp-", PREVIOUS_SUFFIX = ".old";

    private CheckpointFiles() {
    }

    /**
     * Replaces the folder {@code dir} by one holding exactly these files and their checksum list.
     * The folder must belong to the checkpoint alone: anything else in it is dropped.
     */
    public static void write(Path dir, Map<String, byte[]> files) {
        write(dir, files, () -> {
        });
    }

    /** {@link #write} with a hook run after every file operation, so tests can stop the writer anywhere. */
    static void write(Path dir, Map<String, byte[]> files, Runnable afterEachOperation) {
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent(), previous = previous(target);
        String name = target.getFileName().toString();
        try {
            Files.createDirectories(parent);
            deleteStaleTemps(parent, name, afterEachOperation);
            // not Files.createTempDirectory: its folders are 0700, and the rename would keep that mode on the checkpoint
            Path temp = createTempFolder(parent, name + TEMP_INFIX);
            afterEachOperation.run();
            Map<String, String> sums = new TreeMap<>();
            for (var e : files.entrySet()) {
                writeSynced(temp.resolve(e.getKey()), e.getValue());
                sums.put(e.getKey(), Checksums.sha256(e.getValue()));
                afterEachOperation.run();
            }
            writeSynced(temp.resolve(CHECKSUMS), (Json.write(sums) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            afterEachOperation.run();
            syncFolder(temp);
            if (Files.isDirectory(target)) {
                // a NAME.old beside a complete NAME is the remains of an interrupted delete
                deleteRecursively(previous, afterEachOperation);
                Files.move(target, previous, StandardCopyOption.ATOMIC_MOVE);
                syncFolder(parent);
                afterEachOperation.run();
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            syncFolder(parent);
            afterEachOperation.run();
            deleteRecursively(previous, afterEachOperation);
        } catch (IOException e) {
            throw new UnmaskException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the files into a folder that holds other files too (a finished training run, an
     * export): each file atomically, checksums.json last, so a checkpoint whose checksums.json
     * matches is complete. A kill can leave a mix that fails verification; use {@link #write} for
     * anything saved over and over.
     */
    public static void writeInto(Path dir, Map<String, byte[]> files) {
        Map<String, String> sums = new TreeMap<>();
        files.forEach((name, bytes) -> {
            AtomicFiles.write(dir.resolve(name), bytes);
            sums.put(name, Checksums.sha256(bytes));
        });
        Json.writeAtomically(dir.resolve(CHECKSUMS), sums);
    }

    /** Whether a checkpoint folder is there to read: {@code dir} itself, or its previous copy after a kill mid-swap. */
    public static boolean exists(Path dir) {
        return Files.isDirectory(locate(dir));
    }

    /** The folder to read: {@code dir}, or {@code dir.old} when a kill came between the renames of {@link #write}. */
    public static Path locate(Path dir) {
        if (Files.isDirectory(dir)) return dir;
        Path previous = previous(dir.toAbsolutePath().normalize());
        return Files.isDirectory(previous) ? previous : dir;
    }

    /** Reads and verifies the listed files; throws a one-line error naming the first problem. */
    @SuppressWarnings("unchecked")
    public static Map<String, byte[]> readVerified(Path checkpoint, String... required) {
        Path dir = locate(checkpoint);
        PathKinds.requireFolder(dir, "checkpoint", "a checkpoint folder");
        Path sumsFile = dir.resolve(CHECKSUMS);
        if (!Files.isRegularFile(sumsFile)) throw new UnmaskException("checkpoint " + dir + " has no " + CHECKSUMS + " (incomplete or not a checkpoint)");
        Map<String, String> sums = Json.read(sumsFile, Map.class);
        Map<String, byte[]> out = new TreeMap<>();
        for (String name : required) {
            String expected = sums.get(name);
            if (expected == null) throw new UnmaskException("checkpoint " + dir + ": " + CHECKSUMS + " does not list " + name);
            Path f = dir.resolve(name);
            if (!Files.isRegularFile(f)) throw new UnmaskException("checkpoint " + dir + ": missing " + name);
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (IOException e) {
                throw new UnmaskException("checkpoint " + dir + ": cannot read " + name + ": " + e.getMessage());
            }
            String actual = Checksums.sha256(bytes);
            if (!actual.equals(expected)) {
                throw new UnmaskException("checkpoint " + dir + ": " + name + " fails its SHA-256 check (expected "
                        + expected.substring(0, 12) + "..., got " + actual.substring(0, 12) + "...): the file is corrupt or truncated");
            }
            out.put(name, bytes);
        }
        return out;
    }

    /** A new folder {@code prefix + RANDOM} in {@code parent}, created with the process's umask like any folder a tool makes. */
    private static Path createTempFolder(Path parent, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return Files.createDirectory(parent.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36)));
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private static Path previous(Path dir) {
        return dir.resolveSibling(dir.getFileName() + PREVIOUS_SUFFIX);
    }

    private static void writeSynced(Path file, byte[] content) throws IOException {
        Files.write(file, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes renames inside a folder durable; not every file system lets a folder be opened, so best effort. */
    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the rename itself is still atomic; only its durability across a power cut is weaker
        }
    }

    /** Temp folders of earlier writes that were killed before their rename. */
    private static void deleteStaleTemps(Path parent, String name, Runnable afterEachOperation) throws IOException {
        List<Path> stale;
        try (Stream<Path> s = Files.list(parent)) {
            stale = s.filter(p -> p.getFileName().toString().startsWith(name + TEMP_INFIX)).toList();
        }
        for (Path p : stale) deleteRecursively(p, afterEachOperation);
    }

    private static void deleteRecursively(Path dir, Runnable afterEachOperation) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        List<Path> all;
        try (Stream<Path> s = Files.walk(dir)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            Files.delete(p);
            afterEachOperation.run();
        }
    }
}
