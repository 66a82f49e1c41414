package dev.unmask.runs;

import dev.unmask.env.io.Checksums;
import dev.unmask.env.task.Split;

import java.nio.charset.StandardCharsets;

/**
 * One configuration of a sweep: task x buffer length x block length x policy spec x seed, on a
 * split, against one dLLM. The key covers everything that changes the cell's numbers, so a resumed
 * sweep reuses a finished cell only when the same inputs would produce it again.
 *
 * @param dllmSha   SHA-256 of the dLLM's weights file
 * @param policySha SHA-256 of a learned policy's checkpoint (weights and config), or null for a heuristic
 * @param batch     episodes decoded together: each batch draws its own sampling seed, so it matters for
 *                  sampling policies (random, learned mode=sample)
 * @param engine    what ran the dLLM (onnxruntime, samediff): the same answers, confidences equal only to float rounding
 */
public record SweepCell(String task, int genLength, int blockLength, String policy, long seed, int n, Split split,
                        String dllmSha, String policySha, int batch, String engine) {
    /** A stable file name for the cell's result: readable fields plus a hash of the whole key. */
    public String id() {
        String key = String.join("|", task, Integer.toString(genLength), Integer.toString(blockLength), policy, Long.toString(seed),
                Integer.toString(n), split.label(), dllmSha, String.valueOf(policySha), Integer.toString(batch), engine);
        return task + "-L" + genLength + "-B" + blockLength + "-" + policy.replaceAll("[^A-Za-z0-9.=]", "_") + "-s" + seed + "-"
                + split.label() + "-" + Checksums.sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 12);
    }
}
