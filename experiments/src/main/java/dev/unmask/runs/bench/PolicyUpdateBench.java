package dev.unmask.runs.bench;

import dev.unmask.rollout.PolicyTrainer;
import dev.unmask.rollout.PolicyUpdateTiming;
import dev.unmask.rollout.TrainConfig;
import dev.unmask.runs.ConfigFiles;
import dev.unmask.runs.Paths;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One policy-gradient minibatch (forward and backward through the clipped objective) with each
 * policyUpdate setting (fast and fast-eligible on one thread and on the policy update's threads, samediff), on a random minibatch of a training config's shape; the two and the GEMM
 * peak measured in turn within every repetition (as {@link TrainStepBench}), medians after warm-up.
 *
 * @param policyConfig the training config, or null for configs/grpo-lag48-full-knob.yaml
 */
public record PolicyUpdateBench(Path policyConfig, int trainReps) {
    public void run() {
        Path file = policyConfig != null ? policyConfig : Paths.home().resolve("configs/grpo-lag48-full-knob.yaml");
        TrainConfig c = ConfigFiles.resolve(TrainConfig.defaults(), file, List.of(),
                TrainConfig.class);
        int rows = c.minibatch(), width = c.policyContext().equals("buffer") ? c.genLength() : c.blockLength();
        int threads = PolicyTrainer.updateThreads();
        System.out.printf(Locale.ROOT, "policy d=%d, %d heads, FF %d, %d features, %s context; minibatch %d steps x %d positions; OMP_NUM_THREADS=%s; policy update threads %d (UNMASK_UPDATE_THREADS); medians of %d reps%n",
                c.dModel(), c.heads(), c.ffDim(), c.features().size(), c.policyContext(), rows, width, System.getenv("OMP_NUM_THREADS"),
                threads, trainReps);
        Map<String, Runnable> updates = new LinkedHashMap<>();
        for (String u : List.of("fast", "fast-eligible")) {
            updates.put(u + ", 1 thread", PolicyUpdateTiming.oneGradient(c, u, rows, width, 1));
            if (threads > 1) updates.put(u + ", " + threads + " threads", PolicyUpdateTiming.oneGradient(c, u, rows, width, threads));
        }
        updates.put("samediff", PolicyUpdateTiming.oneGradient(c, "samediff", rows, width));
        int inner = 20;
        Runnable nd4jGemm = Timing.gemm256(inner);
        for (int w = 0; w < 3; w++) {
            updates.values().forEach(Runnable::run);
            nd4jGemm.run();
        }
        double[] gemmMs = new double[trainReps];
        Map<String, double[]> ms = new LinkedHashMap<>();
        updates.keySet().forEach(u -> ms.put(u, new double[trainReps]));
        for (int r = 0; r < trainReps; r++) {
            gemmMs[r] = Timing.median(1, nd4jGemm) / inner;
            for (var e : updates.entrySet()) {
                System.gc(); // SameDiff's dead off-heap buffers: collected before, not on the next clock
                ms.get(e.getKey())[r] = Timing.median(1, e.getValue());
            }
        }
        Arrays.sort(gemmMs);
        double peak = 2.0 * 256 * 256 * 256 / gemmMs[trainReps / 2] / 1e6, flops = PolicyUpdateTiming.flopsPerGradient(c, rows, width);
        System.out.println("| what | shape | median ms | positions/s | GFLOP/s | % of peak |");
        System.out.println("|---|---|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| Nd4j.gemm | 256x256x256 | | | %.1f | 100 |%n", peak);
        double base = Double.NaN;
        for (var e : ms.entrySet()) {
            double[] m = e.getValue();
            Arrays.sort(m);
            double med = m[trainReps / 2];
            if (e.getKey().equals("samediff")) base = med;
            System.out.printf(Locale.ROOT, "| policy gradient (%s) | %dx%d | %.1f | %.0f | %.2f | %.1f |%n", e.getKey(), rows, width, med,
                    rows * width / med * 1e3, flops / med / 1e6, 100 * flops / med / 1e6 / peak);
        }
        for (var e : ms.entrySet()) {
            if (!e.getKey().equals("samediff")) System.out.printf(Locale.ROOT, "%s: %.2fx samediff's speed%n", e.getKey(), base / e.getValue()[trainReps / 2]);
        }
        System.out.printf(Locale.ROOT, "The thread count changes no result (UpdateThreadsBitIdentityTest). GFLOP/s counts the matrix products of the full update (forward: embedding, projections, MLP, attention, head; backward as twice the forward), so fast-eligible's, which skips the query side of ineligible positions (a third of them in this minibatch), is counted as if it did them all.%n");
    }
}
