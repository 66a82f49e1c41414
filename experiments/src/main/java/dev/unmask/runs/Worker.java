package dev.unmask.runs;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * This process as one worker of a sweep folder: the host it runs on, its pid, a random token that
 * tells it apart from an earlier process that had the same pid, and, under Slurm, the job, array
 * task and node. It goes into every claim the worker holds and into the folder's invocation record.
 */
public record Worker(String host, long pid, String token, Map<String, String> slurm) {
    /** Slurm's variables kept in the record, under the names the manifest gives them. */
    private static final Map<String, String> SLURM_VARS = slurmVars();

    private static Map<String, String> slurmVars() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("SLURM_JOB_ID", "job_id");
        m.put("SLURM_ARRAY_JOB_ID", "array_job_id");
        m.put("SLURM_ARRAY_TASK_ID", "array_task_id");
        m.put("SLURM_ARRAY_TASK_COUNT", "array_task_count");
        m.put("SLURMD_NODENAME", "node");
        m.put("SLURM_CLUSTER_NAME", "cluster");
        m.put("SLURM_JOB_PARTITION", "partition");
        return m;
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static volatile Worker current;

    /** This process (one token for its lifetime). */
    public static Worker current() {
        Worker w = current;
        if (w == null) {
            synchronized (Worker.class) {
                if (current == null) current = of(System.getenv());
                w = current;
            }
        }
        return w;
    }

    static Worker of(Map<String, String> env) {
        return new Worker(hostName(), ProcessHandle.current().pid(), Long.toUnsignedString(RANDOM.nextLong(), 36), slurmOf(env));
    }

    /** The Slurm job this process belongs to, from its environment (empty outside Slurm). */
    public static Map<String, String> slurmOf(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        SLURM_VARS.forEach((var, name) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) out.put(name, v);
        });
        return out;
    }

    /** host, pid and the Slurm ids, as the manifest records a worker. */
    public Map<String, Object> record() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", host);
        m.put("pid", pid);
        if (!slurm.isEmpty()) m.put("slurm", slurm);
        return m;
    }

    /** host/pid, with the array task under Slurm: how messages name a worker. */
    public String label() {
        String task = slurm.get("array_task_id");
        String job = slurm.getOrDefault("array_job_id", slurm.get("job_id"));
        return host + "/" + pid + (job == null ? "" : " (Slurm job " + job + (task == null ? "" : "_" + task) + ")");
    }

    private static String hostName() {
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isRegularFile(p)) {
                String h = Files.readString(p).trim();
                if (!h.isEmpty()) return h;
            }
        } catch (IOException ignored) {
            // not Linux: ask the resolver
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
