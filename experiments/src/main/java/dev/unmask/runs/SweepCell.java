package dev.unmask.runs;

import dev.unmask.env.io.Checksums;

import java.nio.charset.StandardCharsets;

/** One configuration of a sweep: task x buffer length x block length x policy spec x seed. */
public record SweepCell(String task, int genLength, int blockLength, String policy, long seed, int n) {
    /** A stable file name for the cell's result, so a resumed sweep recognises finished cells. */
    public String id() {
        String key = task + "|" + genLength + "|" + blockLength + "|" + policy + "|" + seed + "|" + n;
        return task + "-L" + genLength + "-B" + blockLength + "-" + policy.replaceAll("[^A-Za-z0-9.=]", "_") + "-s" + seed + "-"
                + Checksums.sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
    }
}
