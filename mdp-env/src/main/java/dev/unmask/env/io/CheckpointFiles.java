package dev.unmask.env.io;

import dev.unmask.env.UnmaskException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint is a folder of files plus {@code checksums.json} (SHA-256 of each). Files are
 * written atomically and checksums.json last, so a checkpoint whose checksums.json exists and
 * matches is complete. Shared by the dLLM and the policy checkpoints.
 */
public final class CheckpointFiles {
    public static final String CHECKSUMS = "checksums.json";

    private CheckpointFiles() {
    }

    /** Writes every file, then the checksum list that vouches for them. */
    public static void write(Path dir, Map<String, byte[]> files) {
        Map<String, String> sums = new TreeMap<>();
        files.forEach((name, bytes) -> {
            AtomicFiles.write(dir.resolve(name), bytes);
            sums.put(name, Checksums.sha256(bytes));
        });
        Json.writeAtomically(dir.resolve(CHECKSUMS), sums);
    }

    /** Reads and verifies the listed files; throws a one-line error naming the first problem. */
    @SuppressWarnings("unchecked")
    public static Map<String, byte[]> readVerified(Path dir, String... required) {
        if (!Files.isDirectory(dir)) throw new UnmaskException("checkpoint " + dir + " does not exist (expected a folder)");
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
            } catch (java.io.IOException e) {
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
}
