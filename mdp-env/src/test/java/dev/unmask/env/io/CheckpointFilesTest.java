package dev.unmask.env.io;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointFilesTest {
    private static final String[] NAMES = {"weights.safetensors", "adam.safetensors", "state.json"};

    /** Stands for a kill: thrown after the writer's k-th file operation. */
    private static final class Killed extends RuntimeException {
    }

    private static Runnable killAfter(int k) {
        int[] done = {0};
        return () -> {
            if (++done[0] == k) throw new Killed();
        };
    }

    private static Map<String, byte[]> state(String tag) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String n : NAMES) files.put(n, (tag + ":" + n).repeat(50).getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static void assertHolds(Map<String, byte[]> expected, Map<String, byte[]> actual, String why) {
        assertEquals(expected.keySet(), actual.keySet(), why);
        expected.forEach((n, b) -> assertArrayEquals(b, actual.get(n), why + ": " + n));
    }

    private static String tagOf(Map<String, byte[]> read) {
        return new String(read.get(NAMES[0]), StandardCharsets.UTF_8).split(":")[0];
    }

    @Test
    void aSaveKilledAfterAnyFileLeavesTheOldOrTheNewCompleteState(@TempDir Path root) throws Exception {
        Map<String, byte[]> before = state("old"), after = state("new"), later = state("later");
        Set<String> seen = new TreeSet<>();
        boolean completed = false;
        for (int k = 1; !completed; k++) {
            assertTrue(k < 100, "the writer never finishes");
            Path dir = root.resolve("k" + k).resolve("trainer-state");
            CheckpointFiles.write(dir, before);
            try {
                CheckpointFiles.write(dir, after, killAfter(k));
                completed = true;
            } catch (Killed expected) {
                // the process died here; what is on disk must still load
            }
            Map<String, byte[]> read = CheckpointFiles.readVerified(dir, NAMES);
            String tag = tagOf(read);
            assertHolds(tag.equals("old") ? before : after, read, "killed after operation " + k);
            seen.add(tag);
            assertTrue(CheckpointFiles.exists(dir), "killed after operation " + k + ": a resume must find the state");
            // the next save (a resumed run) works and leaves nothing stale beside the folder
            CheckpointFiles.write(dir, later);
            assertHolds(later, CheckpointFiles.readVerified(dir, NAMES), "saved again after a kill at operation " + k);
            try (var s = Files.list(dir.getParent())) {
                assertEquals(List.of("trainer-state"), s.map(p -> p.getFileName().toString()).toList(), "after a kill at operation " + k);
            }
        }
        assertEquals(Set.of("old", "new"), seen, "some kills keep the old state, later ones the new");
    }

    @Test
    void aFirstSaveKilledHalfWayLeavesNoCheckpointRatherThanABrokenOne(@TempDir Path root) {
        for (int k = 1; k < 6; k++) {
            Path dir = root.resolve("k" + k).resolve("policy");
            try {
                CheckpointFiles.write(dir, state("new"), killAfter(k));
            } catch (Killed expected) {
                // died
            }
            if (CheckpointFiles.exists(dir)) assertHolds(state("new"), CheckpointFiles.readVerified(dir, NAMES), "k=" + k);
            else assertThrows(UnmaskException.class, () -> CheckpointFiles.readVerified(dir, NAMES));
        }
    }

    @Test
    void writingIntoASharedFolderKeepsTheOtherFiles(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("metrics.jsonl"), "{}\n");
        CheckpointFiles.writeInto(root, state("new"));
        assertHolds(state("new"), CheckpointFiles.readVerified(root, NAMES), "shared folder");
        assertTrue(Files.isRegularFile(root.resolve("metrics.jsonl")));
    }

    @Test
    void writtenFilesAndCheckpointFoldersTakeTheUmaskLikeAnyOtherFile(@TempDir Path root) throws Exception {
        java.nio.file.attribute.PosixFileAttributeView posix = Files.getFileAttributeView(root, java.nio.file.attribute.PosixFileAttributeView.class);
        org.junit.jupiter.api.Assumptions.assumeTrue(posix != null, "a POSIX file system");
        var plainFile = Files.getPosixFilePermissions(Files.createFile(root.resolve("plain.txt")));
        var plainFolder = Files.getPosixFilePermissions(Files.createDirectory(root.resolve("plain")));
        AtomicFiles.writeString(root.resolve("eval.csv"), "a,b\n");
        assertEquals(plainFile, Files.getPosixFilePermissions(root.resolve("eval.csv")), "an atomically written file");
        Json.writeAtomically(root.resolve("manifest.json"), Map.of("k", 1));
        assertEquals(plainFile, Files.getPosixFilePermissions(root.resolve("manifest.json")));
        CheckpointFiles.write(root.resolve("ck"), state("a"));
        assertEquals(plainFolder, Files.getPosixFilePermissions(root.resolve("ck")), "a checkpoint folder");
        assertEquals(plainFile, Files.getPosixFilePermissions(root.resolve("ck").resolve(NAMES[0])));
        CheckpointFiles.write(root.resolve("ck"), state("b"));
        assertEquals(plainFolder, Files.getPosixFilePermissions(root.resolve("ck")), "a replaced checkpoint folder");
        try (var s = Files.list(root)) {
            assertEquals(List.of("ck", "eval.csv", "manifest.json", "plain", "plain.txt"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temp files left");
        }
    }

    @Test
    void anOutputFolderIsCheckedWithoutATraceAndAWrongKindIsNamed(@TempDir Path root) throws Exception {
        Path file = Files.writeString(root.resolve("notes.txt"), "x");
        OutputDirs.requireWritable(root.resolve("a/b/c"), "--out");
        assertFalse(Files.exists(root.resolve("a")), "the folders made for the check are gone again");
        OutputDirs.requireWritable(root, "--out");
        try (var s = Files.list(root)) {
            assertEquals(1, s.count(), "no probe file left");
        }
        UnmaskException under = assertThrows(UnmaskException.class, () -> OutputDirs.requireWritable(file.resolve("out"), "--out"));
        assertEquals("--out " + file.resolve("out") + " cannot be created: " + file + " is a file, not a folder", under.getMessage());
        UnmaskException isFile = assertThrows(UnmaskException.class, () -> OutputDirs.requireWritable(file, "--out"));
        assertEquals("--out " + file + " is a file; expected a folder to write into", isFile.getMessage());
        UnmaskException notAFolder = assertThrows(UnmaskException.class, () -> CheckpointFiles.readVerified(file, NAMES));
        assertEquals("checkpoint " + file + " is a file; expected a checkpoint folder", notAFolder.getMessage());
        UnmaskException missing = assertThrows(UnmaskException.class, () -> CheckpointFiles.readVerified(root.resolve("nope"), NAMES));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        UnmaskException folderForFile = assertThrows(UnmaskException.class, () -> Json.read(root, Map.class));
        assertEquals(root + " is a folder; expected a JSON file", folderForFile.getMessage());
    }

    @Test
    void manyProcessesCheckingOneNewFolderAtOnceAllPass(@TempDir Path root) throws Exception {
        // the tasks of a job array start a shared sweep together: each checks --out while the others
        // create and remove it for their own checks
        int n = 8;
        for (int round = 0; round < 20; round++) {
            Path out = root.resolve("round-" + round).resolve("shared");
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
            try {
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
                for (int i = 0; i < n; i++) {
                    fs.add(pool.submit(() -> {
                        go.await();
                        OutputDirs.requireWritable(out, "--out");
                        return null;
                    }));
                }
                go.countDown();
                for (var f : fs) f.get(); // throws if any check failed
            } finally {
                pool.shutdownNow();
            }
        }
        try (var s = Files.walk(root)) {
            assertEquals(List.of(), s.filter(Files::isRegularFile).toList(), "no probe file left behind");
        }
    }

    @Test
    void aCorruptJsonLinesLogIsNamedByFileAndLine(@TempDir Path root) throws Exception {
        Path log = Files.writeString(root.resolve("metrics.jsonl"), "{\"step\":1}\n\n{\"step\":2,\"lo\n");
        UnmaskException e = assertThrows(UnmaskException.class, () -> JsonLines.readObjects(log));
        assertTrue(e.getMessage().startsWith(log + " line 3 is not a JSON object"), e.getMessage());
        assertEquals(1, JsonLines.readTrees(Files.writeString(root.resolve("ok.jsonl"), "{\"step\":1}\n")).size());
    }
}
