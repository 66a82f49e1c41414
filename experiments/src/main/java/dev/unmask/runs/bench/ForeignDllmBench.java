package dev.unmask.runs.bench;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One environment step of a dLLM brought as ONNX (a descriptor, {@link Denoisers#load}) at the
 * first step of full diffusion, the widest step there is: every row is a held-out prompt of
 * {@code task} followed by {@code buffer} masked positions, and every masked position is queried
 * (top-1 id and probability, top-2 probability, entropy). Prints the median step time and the
 * memory of the step: the Java heap's peak, the process's resident peak (VmHWM, reset before each
 * batch through /proc/self/clear_refs), and an estimate of ONNX Runtime's native share; and how
 * many values crossed from ONNX Runtime into Java per step, against the vocab x positions a
 * logits copy would be.
 *
 * <p>The native estimate is the largest, over samples every 5 ms during the timed steps, of the
 * resident size minus the JVM's committed heap and committed non-heap (metaspace, code cache):
 * what is resident and not the JVM's own pools, i.e. ONNX Runtime's buffers and the model's
 * weights, plus the JVM's untracked native memory (thread stacks, GC tables; tens of MB). Heap
 * pages committed but never touched are not resident, so the subtraction can undercount a little.
 */
public record ForeignDllmBench(Path dllm, List<Integer> batches, int buffer, String taskName, int reps) {
    /** Untimed steps after the first, before the timed ones. */
    static final int WARM_STEPS = 2;

    public ForeignDllmBench {
        if (batches.isEmpty() || batches.stream().anyMatch(b -> b < 1)) throw new UnmaskException("--foreign-batches must be positive, got " + batches);
        if (buffer < 1) throw new UnmaskException("--foreign-buffer must be at least 1, got " + buffer);
        if (reps < 1) throw new UnmaskException("--foreign-reps must be at least 1, got " + reps);
    }

    public void run() {
        Task task = Tasks.byName(taskName);
        Runtime rt = Runtime.getRuntime();
        long rssBefore = Proc.kb("VmRSS");
        boolean descriptor = Files.isRegularFile(dllm) && dllm.getFileName().toString().endsWith(".json")
                || Files.isRegularFile(dllm.resolve(DllmOnnxExporter.DESCRIPTOR));
        if (!descriptor) {
            throw new UnmaskException("--foreign-dllm " + dllm + (Files.isDirectory(dllm) ? " holds no " + DllmOnnxExporter.DESCRIPTOR + " (a built-in checkpoint?)" : " is not a descriptor file")
                    + "; give an ONNX export folder or its descriptor.json");
        }
        try (Denoiser loaded = Denoisers.load(dllm)) {
            OnnxDenoiser d = (OnnxDenoiser) loaded; // a descriptor always opens as OnnxDenoiser
            Vocabulary v = d.vocabulary();
            System.out.printf(Locale.ROOT, "foreign dLLM %s%n", d.describe());
            System.out.printf(Locale.ROOT, "vocabulary axis %,d (mask %d, EOS %d, pad %d), max length %d, ONNX Runtime %s threads %d; statistics in %s; "
                            + "Java max heap %d MB; OMP_NUM_THREADS=%s; RSS after the JVM started %d MB, after the sessions opened %d MB%n",
                    v.size(), v.maskId(), v.eosId(), v.padId(), d.maxLength(), d.descriptor().provider(), d.descriptor().threads(),
                    d.statisticsInOnnxRuntime() ? "ONNX Runtime" : "Java (logits copied)", rt.maxMemory() >> 20, System.getenv("OMP_NUM_THREADS"),
                    rssBefore >> 10, Proc.kb("VmRSS") >> 10);
            System.out.printf(Locale.ROOT, "one step = one forward pass + the statistics of every masked position (first step of full diffusion): "
                    + "%s test prompts (seed 1) + %d masked positions per row; the first step timed alone, %d more untimed, then the median of %d%n", task.name(), buffer, WARM_STEPS, reps);
            System.out.println();
            System.out.println("| batch | rows x tokens | queried positions | ORT calls | first step ms | median step ms | ms per queried position | Java heap peak MB | heap committed MB "
                    + "| RSS peak MB | ONNX Runtime native est. MB | logits tensor in ORT MB | values into Java per step | vocab x queried |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            SplittableRandom rng = new SplittableRandom(1);
            for (int b : batches) {
                int[][] seqs = new int[b][];
                boolean[][] query = new boolean[b][];
                int queried = 0, longest = 0;
                for (int r = 0; r < b; r++) {
                    Example ex = task.sample(Split.TEST, rng);
                    int[] prompt = v.encode(ex.prompt());
                    if (prompt.length + buffer > d.maxLength()) {
                        throw new UnmaskException("a prompt of " + prompt.length + " tokens plus --foreign-buffer " + buffer + " exceeds the model's max_length " + d.maxLength());
                    }
                    seqs[r] = java.util.Arrays.copyOf(prompt, prompt.length + buffer);
                    query[r] = new boolean[seqs[r].length];
                    for (int i = prompt.length; i < seqs[r].length; i++) {
                        seqs[r][i] = v.maskId();
                        query[r][i] = true;
                        queried++;
                    }
                    longest = Math.max(longest, seqs[r].length);
                }
                // the first step at a shape: ORT's arena grows and every new page is faulted in
                long c0 = System.nanoTime();
                d.predict(seqs, query, false);
                double coldMs = (System.nanoTime() - c0) / 1e6;
                for (int w = 0; w < WARM_STEPS; w++) d.predict(seqs, query, false);
                System.gc();
                for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) p.resetPeakUsage();
                Proc.resetPeakRss();
                long valuesBefore = d.valuesIntoJava();
                Sampler sampler = new Sampler();
                Thread t = new Thread(sampler, "rss-sampler");
                t.setDaemon(true);
                t.start();
                double ms;
                try {
                    ms = Timing.median(reps, () -> d.predict(seqs, query, false));
                } finally {
                    sampler.stop = true;
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                long perStep = (d.valuesIntoJava() - valuesBefore) / reps;
                long heapPeak = 0;
                for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) heapPeak += p.getPeakUsage().getUsed();
                long heapCommitted = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
                long rssPeak = Math.max(Proc.kb("VmHWM") << 10, sampler.rssPeak);
                double logitsMb = (double) d.largestCallRows(seqs) * longest * v.size() * 4 / (1 << 20);
                System.out.printf(Locale.ROOT, "| %d | %dx%d | %,d | %d | %.0f | %.0f | %.3f | %d | %d | %d | %d | %.0f | %,d | %,d |%n", b, b, longest, queried,
                        d.callsPerStep(seqs), coldMs, ms, ms / queried,
                        heapPeak >> 20, heapCommitted >> 20, rssPeak >> 20, sampler.nativePeak >> 20, logitsMb, perStep, (long) queried * v.size());
            }
        }
        System.out.println();
        System.out.println("Java heap peak: the sum of the heap pools' peaks since the timed steps began (at least the true peak's size). "
                + "RSS peak: the process's VmHWM over the timed steps. ONNX Runtime native est.: the largest RSS minus the JVM's committed heap and non-heap, "
                + "sampled every 5 ms (ORT's buffers and the model's weights, plus the JVM's untracked native memory). "
                + "logits tensor: rows x tokens x vocab float32 of the largest ORT call, what ORT holds between the model and the statistics graph. "
                + "values into Java: floats and ids copied out of ORT per step (5 per queried position), against the vocab x positions a logits copy would be.");
    }

    /** Samples RSS and the JVM's committed pools until stopped. */
    private static final class Sampler implements Runnable {
        volatile boolean stop;
        volatile long rssPeak, nativePeak;

        @Override
        public void run() {
            var mem = ManagementFactory.getMemoryMXBean();
            while (!stop) {
                long rss = Proc.kb("VmRSS") << 10;
                long jvm = mem.getHeapMemoryUsage().getCommitted() + mem.getNonHeapMemoryUsage().getCommitted();
                rssPeak = Math.max(rssPeak, rss);
                nativePeak = Math.max(nativePeak, rss - jvm);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** /proc/self/status fields (Linux); -1 elsewhere. */
    static final class Proc {
        private static final Path STATUS = Path.of("/proc/self/status");

        static long kb(String field) {
            try {
                for (String line : Files.readAllLines(STATUS)) {
                    if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
                }
            } catch (IOException | NumberFormatException e) {
                return -1;
            }
            return -1;
        }

        /** Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs); a no-op where that is refused. */
        static void resetPeakRss() {
            try {
                Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            } catch (IOException e) {
                // not Linux, or not permitted: VmHWM then covers the whole process, the sampler still covers the steps
            }
        }
    }
}
