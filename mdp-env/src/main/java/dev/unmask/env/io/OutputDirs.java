package dev.unmask.env.io;

import dev.unmask.env.UnmaskException;

import java.io.IOException;
import java.nio.file.*;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that an output folder can be written before a command spends any time computing: a path
 * under a regular file, a read-only file system or a folder without write permission fails at once
 * with one line, not after the first result is computed.
 */
public final class OutputDirs {
    private OutputDirs() {
    }

    /**
     * Throws a one-line error unless {@code dir} is a folder (or one can be created there) in which
     * files can be created. Leaves no trace: folders it had to create and its probe file are
     * removed again, so a command that then fails on another input has written nothing.
     *
     * @param what how the error names the folder, e.g. "--out"
     */
    public static void requireWritable(Path dir, String what) {
        // several processes may check one new folder at the same moment (the tasks of a job array
        // starting a shared sweep): one may remove the folder it made for its check while another
        // probes it, so a probe that finds the folder gone looks again
        for (int attempt = 1; ; attempt++) {
            try {
                check(dir, what);
                return;
            } catch (FolderVanished e) {
                // what it means when it happens every time: not a race but a file system that refuses
                if (attempt >= 20) throw new UnmaskException(e.getMessage());
            }
        }
    }

    /** The folder disappeared under the check (another process removed the one it had made); the message is the error if it keeps happening. */
    private static final class FolderVanished extends Exception {
        FolderVanished(String message) {
            super(message, null, false, false);
        }
    }

    private static void check(Path dir, String what) throws FolderVanished {
        Path abs = dir.toAbsolutePath().normalize();
        // the folders that are missing, outermost first; the first existing ancestor must be a folder
        List<Path> missing = new ArrayList<>();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            missing.add(0, existing);
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            String is = PathKinds.describe(existing);
            // gone, or removed and made again between the two looks: look again
            if (is == null || is.equals(PathKinds.FOLDER)) throw new FolderVanished(what + " " + dir + " cannot be created: " + existing + " vanished as it was looked at");
            if (existing.equals(abs)) throw new UnmaskException(what + " " + dir + " is " + is + "; expected a folder to write into");
            throw new UnmaskException(what + " " + dir + " cannot be created: " + existing + " is " + is + ", not a folder");
        }
        List<Path> created = new ArrayList<>();
        try {
            for (Path p : missing) {
                try {
                    Files.createDirectory(p);
                } catch (FileAlreadyExistsException e) {
                    if (Files.isDirectory(p)) continue; // another process made it meanwhile: not ours to remove
                    String is = PathKinds.describe(p);
                    // gone, or removed and made again by another process between the two looks: look again
                    if (is == null || is.equals(PathKinds.FOLDER)) throw new FolderVanished(what + " " + dir + " cannot be created: " + p + " vanished as it was made");
                    throw new UnmaskException(what + " " + dir + " cannot be created in " + p.getParent() + ": " + p + " is " + is);
                } catch (NoSuchFileException e) {
                    // the parent was there a moment ago (or this check made it): another process may have removed it
                    throw new FolderVanished(what + " " + dir + " cannot be created in " + p.getParent() + ": the file system there takes no new folders");
                } catch (IOException e) {
                    throw new UnmaskException(what + " " + dir + " cannot be created in " + p.getParent() + ": " + shortReason(e));
                }
                created.add(p);
            }
            try {
                Files.delete(AtomicFiles.createTempBeside(abs.resolve(".unmask-write-check")));
            } catch (NoSuchFileException e) {
                // the folder was there (or made by this check) a moment ago: another process may have removed it
                throw new FolderVanished(what + " " + dir + " is a folder that cannot be written: " + shortReason(e));
            } catch (IOException e) {
                throw new UnmaskException(what + " " + dir + " is a folder that cannot be written: " + shortReason(e));
            }
        } finally {
            for (int i = created.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(created.get(i));
                } catch (IOException ignored) {
                    // another writer put something there meanwhile: keep it
                }
            }
        }
    }

    /** Why a file operation failed, without the path (the caller names it). */
    static String shortReason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        if (e instanceof AccessDeniedException) return "permission denied";
        return reason(e);
    }

    /** A one-line reason for a failed file operation, naming the path where Java's message does not say what went wrong. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            String file = f.getFile();
            if (f.getReason() != null) return f.getMessage();
            if (e instanceof AccessDeniedException) return file + ": permission denied";
            if (e instanceof NotDirectoryException) return file + " is not a folder";
            if (e instanceof NoSuchFileException) return file + " does not exist";
            if (e instanceof FileAlreadyExistsException) return file + " already exists";
            if (e instanceof DirectoryNotEmptyException) return file + " is a folder that is not empty";
            return f.getClass().getSimpleName() + ": " + f.getMessage();
        }
        return Json.firstLine(e.getMessage());
    }
}
