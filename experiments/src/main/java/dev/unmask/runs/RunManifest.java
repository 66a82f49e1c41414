package dev.unmask.runs;

import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.rollout.PolicyTrainer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.*;
import java.util.concurrent.TimeUnit;

/**
 * manifest.json beside every run's results: what was run (command, resolved config, seeds), on
 * what (SHA-256 of every input file, code version and dirty flag), where (JVM, libraries, CPU,
 * threads), and what came out (output files with their SHA-256, headline numbers).
 */
public final class RunManifest {
    public static final String FILE = "manifest.json";
    private final Map<String, Object> root = new LinkedHashMap<>();
    private final Map<String, String> inputs = new TreeMap<>();
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final Map<String, Object> invocationDetails = new LinkedHashMap<>();
    private long startNanos = System.nanoTime();

    public RunManifest(String kind, List<String> commandLine, Object config) {
        root.put("kind", kind);
        root.put("command", shellCommand(commandLine));
        root.put("args", List.copyOf(commandLine));
        root.put("config", config);
        root.put("started", Instant.now().toString());
        root.put("code", codeVersion());
        root.put("environment", environment());
    }

    /**
     * The command as a line to paste into a shell: an argument holding anything but plain
     * characters (a sweep's |, a space) is quoted, so {@code threshold:tau=0.5|0.9} is not a pipe.
     */
    public static String shellCommand(List<String> args) {
        StringBuilder sb = new StringBuilder("./unmask");
        for (String a : args) {
            sb.append(' ');
            if (!a.isEmpty() && a.matches("[A-Za-z0-9_./:=,@%+-]+")) sb.append(a);
            else if (a.chars().noneMatch(c -> "\\$`\"!\n".indexOf(c) >= 0)) sb.append('"').append(a).append('"'); // nothing bash expands inside "..."
            else sb.append('\'').append(a.replace("'", "'\\''")).append('\'');
        }
        return sb.toString();
    }

    /**
     * The run began earlier than this manifest was made (commands that build it only once their
     * work is done): wall_seconds and started then count from startNanos.
     */
    public RunManifest startedAt(long startNanos, Instant started) {
        this.startNanos = startNanos;
        root.put("started", started.toString());
        return this;
    }

    public RunManifest input(String name, Path file) {
        inputs.put(name + ":" + file, Checksums.sha256(file));
        return this;
    }

    /** What ran the dLLM (onnxruntime or samediff): reproduce pins it; manifests without it ran on SameDiff. */
    public RunManifest dllmEngine(String engine) {
        root.put("dllm_engine", engine);
        return this;
    }

    /** This run as one invocation of a folder that several write into: its command, config and times so far. */
    public Map<String, Object> invocation() {
        Map<String, Object> inv = new LinkedHashMap<>();
        for (String k : List.of("command", "args", "config", "started")) inv.put(k, root.get(k));
        inv.put("finished", Instant.now().toString());
        inv.put("inputs_sha256", new TreeMap<>(inputs));
        inv.putAll(invocationDetails);
        return inv;
    }

    /** Something only this invocation's record holds (the worker that ran it, the cells it computed). */
    public RunManifest invocationDetail(String key, Object value) {
        invocationDetails.put(key, value);
        return this;
    }

    /** Inputs an earlier invocation of the same folder pinned: the folder's results rest on them too. */
    public RunManifest inputsOf(Map<?, ?> earlier) {
        earlier.forEach((name, sha) -> inputs.putIfAbsent(String.valueOf(name), String.valueOf(sha)));
        return this;
    }

    /** Every invocation whose results the folder's tables hold, oldest first ({@link SweepFolder}). */
    public RunManifest invocations(List<Map<String, Object>> invocations) {
        root.put(SweepFolder.INVOCATIONS, List.copyOf(invocations));
        return this;
    }

    public RunManifest result(String key, Object value) {
        results.put(key, value);
        return this;
    }

    /** Writes the manifest atomically, listing the SHA-256 of the given output files. */
    public void write(Path dir, List<Path> outputs) {
        root.put("inputs_sha256", inputs);
        root.put("results", results);
        root.put("finished", Instant.now().toString());
        root.put("wall_seconds", Math.round((System.nanoTime() - startNanos) / 1e7) / 100.0);
        Map<String, String> out = new TreeMap<>();
        for (Path p : outputs) if (Files.isRegularFile(p)) out.put(dir.relativize(p).toString(), Checksums.sha256(p));
        root.put("outputs_sha256", out);
        Json.writeAtomically(dir.resolve(FILE), root);
    }

    public static Map<String, Object> codeVersion() {
        Map<String, Object> code = new LinkedHashMap<>();
        code.put("unmask_version", buildProperties().getProperty("unmask.version", "unknown"));
        code.put("git_commit", git("rev-parse", "HEAD"));
        // outputs under results/ are what runs write; rewriting them does not make the code dirty
        String status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results");
        code.put("git_dirty", status == null ? null : !status.isBlank());
        return code;
    }

    public static Map<String, Object> environment() {
        Map<String, Object> env = new LinkedHashMap<>();
        Properties p = buildProperties();
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        env.put("nd4j", p.getProperty("nd4j.version"));
        env.put("javacpp", p.getProperty("javacpp.version"));
        env.put("openblas", p.getProperty("openblas.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cpu", cpuModel());
        env.put("available_processors", Runtime.getRuntime().availableProcessors());
        env.put("OMP_NUM_THREADS", System.getenv("OMP_NUM_THREADS"));
        // the policy update's threads change its wall time only, never its result (UpdateThreadsBitIdentityTest)
        env.put("policy_update_threads", PolicyTrainer.updateThreads());
        env.put("max_heap_mb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        return env;
    }

    private static Properties buildProperties() {
        Properties p = new Properties();
        try (InputStream in = RunManifest.class.getResourceAsStream("/unmask-build.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // the manifest then says "unknown"; never fail a run over it
        }
        return p;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String git(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(List.of(args));
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!proc.waitFor(10, TimeUnit.SECONDS) || proc.exitValue() != 0) return null;
            return out;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }
}
