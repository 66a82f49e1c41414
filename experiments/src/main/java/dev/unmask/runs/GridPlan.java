package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The cells of an eval or sweep: tasks x block lengths x policies x seeds, every spec parsed (a bad
 * spec or a missing checkpoint fails before any work), step budgets that do not fit the blocks left
 * out, and a warning once per learned policy trained on another dLLM, task or buffer length.
 *
 * @param cells     in the order they run
 * @param trainedOn the dLLM each learned spec's policy was trained against ({@link Policies#trainedOn})
 */
public record GridPlan(List<SweepCell> cells, Map<String, String> trainedOn) {
    /**
     * @param genLength   the buffer length, or null for each task's own
     * @param engineLabel what runs the dLLM, as the cells carry it
     * @param warn        receives each mismatch warning once
     */
    public static GridPlan of(List<String> tasks, Integer genLength, List<String> blockLengths, List<String> policies, List<Long> seeds, int n,
                              Split split, Path dllm, String dllmSha, int batch, String engineLabel, Consumer<String> warn) {
        Map<String, String> policySha = new HashMap<>();
        Map<String, String> trainedOn = new HashMap<>();
        Set<String> warned = new HashSet<>();
        List<SweepCell> cells = new ArrayList<>();
        for (String t : tasks) {
            Task task = Tasks.byName(t);
            int len = genLength == null ? task.defaultGenLength() : genLength;
            for (String b : blockLengths) {
                int block;
                if (b.equals("full")) block = len;
                else {
                    try {
                        block = Integer.parseInt(b.trim());
                    } catch (NumberFormatException e) {
                        throw new UnmaskException("block length '" + b + "' is neither a number nor 'full'");
                    }
                }
                if (block <= 0 || len % block != 0) throw new UnmaskException("block length " + block + " does not divide the buffer length " + len + " of task " + t);
                for (String p : PolicyGrid.expand(policies, len)) {
                    Policies.parse(p); // fail fast on a bad spec or a missing checkpoint, before any work
                    if (!PolicyGrid.fits(p, len, block)) continue;
                    String pSha = policySha.computeIfAbsent(p, Policies::checksum);
                    trainedOn.computeIfAbsent(p, Policies::trainedOn);
                    String mismatch = Policies.mismatch(p, dllm, dllmSha, t, len);
                    if (mismatch != null && warned.add(mismatch)) warn.accept(mismatch);
                    for (long s : seeds) cells.add(new SweepCell(t, len, block, p, s, n, split, dllmSha, pSha, batch, engineLabel));
                }
            }
        }
        return new GridPlan(List.copyOf(cells), Collections.unmodifiableMap(new HashMap<>(trainedOn)));
    }
}
