package dev.unmask.env.io;

import dev.unmask.env.UnmaskException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One-line errors for a path of the wrong kind: a missing path "does not exist", but an existing
 * file where a folder is expected (or the reverse) is named for what it is, so the user is not sent
 * looking for a path that is right there.
 */
public final class PathKinds {
    private PathKinds() {
    }

    /** What {@link #describe} calls a folder. */
    public static final String FOLDER = "a folder";

    /** "a file", {@value #FOLDER}, "something other than a file or folder", or null when nothing is there. */
    public static String describe(Path p) {
        if (Files.isDirectory(p)) return FOLDER;
        if (Files.isRegularFile(p)) return "a file";
        if (Files.exists(p)) return "neither a file nor a folder";
        return null;
    }

    /**
     * Throws unless {@code p} is a folder.
     *
     * @param what     how the error names the path, e.g. "checkpoint" or "--out"
     * @param expected what it should be, e.g. "a dLLM checkpoint folder"
     */
    public static void requireFolder(Path p, String what, String expected) {
        if (Files.isDirectory(p)) return;
        String is = describe(p);
        if (is == null) throw new UnmaskException(what + " " + p + " does not exist");
        throw new UnmaskException(what + " " + p + " is " + is + "; expected " + expected);
    }

    /** Throws unless {@code p} is a regular file; see {@link #requireFolder}. */
    public static void requireFile(Path p, String what, String expected) {
        if (Files.isRegularFile(p)) return;
        String is = describe(p);
        if (is == null) throw new UnmaskException(what + " " + p + " does not exist");
        throw new UnmaskException(what + " " + p + " is " + is + "; expected " + expected);
    }
}
