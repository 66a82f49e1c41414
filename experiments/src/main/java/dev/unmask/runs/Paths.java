package dev.unmask.runs;

import java.nio.file.Path;

/** Where the shipped models live: beside the launcher (it sets unmask.home), else the working directory. */
public final class Paths {
    private Paths() {
    }

    public static Path home() {
        return Path.of(System.getProperty("unmask.home", "."));
    }

    public static Path defaultDllm() {
        return home().resolve("models/dllm-a");
    }
}
