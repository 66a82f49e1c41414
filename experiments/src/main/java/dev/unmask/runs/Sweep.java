package dev.unmask.runs;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.eval.FailureCauses;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a grid of cells, each an evaluation, with up to {@code workers} in parallel (each worker
 * thread loads its own dLLM: the model is not thread-safe), sharing the cells with other processes
 * that run into the same folder through claim files ({@link CellClaims}). Each finished cell is
 * written atomically to cells/ID.json; a resumed sweep skips cells whose file exists. The ID hashes every
 * input of the cell (dLLM and policy checksums, split, n, seed, batch), so a cell made with other
 * inputs is never taken for this one: it is recomputed.
 */
public final class Sweep {
    public static final String CELLS = "cells";
    /** Beside each cell's result: its wrong answers counted by cause ({@link FailureCauses}). */
    static final String FAILURES = ".failures.json";
    private static final int SAMPLES = 8;

    public interface Listener {
        void cellDone(int done, int total, EvalRow row);
    }

    private Sweep() {
    }

    /** What one worker's run of a sweep left: every cell's row (in the cells' order), and which cells this worker computed or took over. */
    public record Outcome(List<EvalRow> rows, List<String> computed, List<String> takenOver) {
    }

    /**
     * Runs the cells that are not finished yet, up to {@code workers} at a time, sharing them with
     * any other process that runs cells into the same folder: a cell is computed only by the worker
     * that claims it ({@link CellClaims}); a worker with nothing left to claim waits for the cells
     * others hold, takes over those whose claim goes stale, and returns when every cell is finished.
     *
     * @param policyTrainedOn the dLLM a policy spec was trained against (for the row's policy_dllm), or null for a rule
     */
    public static Outcome run(Path dir, List<SweepCell> cells, int workers, CellClaims claims, Supplier<Denoiser> loadDllm,
                              Function<String, UnmaskPolicy> policyFactory, Function<String, String> policyTrainedOn, Listener listener) {
        Path cellDir = dir.resolve(CELLS);
        ThreadLocal<Denoiser> model = ThreadLocal.withInitial(loadDllm);
        Scheduler scheduler = new Scheduler(cellDir, cells, claims);
        List<String> computed = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < Math.max(1, workers); w++) {
                futures.add(pool.submit(() -> {
                    for (SweepCell c = scheduler.next(); c != null; c = scheduler.next()) {
                        try {
                            EvalRow row = compute(cellDir, c, model.get(), policyFactory, policyTrainedOn);
                            if (row != null) computed.add(c.id());
                            if (listener != null) listener.cellDone(scheduler.finished(), cells.size(), row != null ? row : Json.read(cellDir.resolve(c.id() + ".json"), EvalRow.class));
                        } finally {
                            scheduler.done(c);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Throwable t = e.getCause();
                    if (t instanceof UnmaskException u) throw u;
                    throw new IllegalStateException(t);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnmaskException("sweep interrupted; finished cells are kept, run again to resume");
        } finally {
            pool.shutdownNow();
        }
        List<EvalRow> rows = new ArrayList<>();
        for (SweepCell c : cells) rows.add(Json.read(cellDir.resolve(c.id() + ".json"), EvalRow.class));
        List<String> mine = new ArrayList<>();
        for (SweepCell c : cells) if (computed.contains(c.id())) mine.add(c.id());
        return new Outcome(rows, mine, List.copyOf(scheduler.takenOver));
    }

    /** Evaluates one cell and writes its files; null when another writer finished it meanwhile (its files are kept). */
    private static EvalRow compute(Path cellDir, SweepCell c, Denoiser dllm, Function<String, UnmaskPolicy> policyFactory, Function<String, String> policyTrainedOn) {
        Task task = Tasks.byName(c.task());
        Evaluator.Outcome outcome = Evaluator.evaluate(dllm, task, c.genLength(), c.blockLength(),
                policyFactory.apply(c.policy()), c.split(), c.seed(), c.n(), c.batch(), null);
        EvalRow row = outcome.row().withPolicyDllm(policyTrainedOn.apply(c.policy()));
        // a few decoded answers beside the numbers, to see how a rule fails (written before the cell counts as done)
        var vocab = dllm.vocabulary();
        StringBuilder samples = new StringBuilder();
        for (var e : outcome.episodes().subList(0, Math.min(SAMPLES, outcome.episodes().size()))) {
            samples.append(e.correct() ? "ok    " : "WRONG ").append("nfe=").append(e.nfe()).append("  ")
                    .append(e.example().prompt()).append("  ->  ").append(e.answerText())
                    .append("   (reference ").append(e.example().answer()).append(")");
            if (!e.correct()) samples.append("  cause: ").append(FailureCauses.of(e, task, vocab).name().toLowerCase(Locale.ROOT));
            samples.append("\n").append(writeOrder(e, vocab));
        }
        // another writer of the folder may have finished this cell meanwhile: keep its files, which its manifest may vouch for
        if (Files.isRegularFile(cellDir.resolve(c.id() + ".json"))) return null;
        AtomicFiles.writeString(cellDir.resolve(c.id() + ".samples.txt"), samples.toString());
        Json.writeAtomically(cellDir.resolve(c.id() + FAILURES), FailureCauses.count(outcome.episodes(), task, vocab));
        Json.writeAtomically(cellDir.resolve(c.id() + ".json"), row);
        return row;
    }

    /**
     * Hands the worker threads of this process the cells to compute: the next one that is neither
     * finished nor held (claimed in the folder), or one whose holder stopped beating; waits while
     * others hold every cell that is left.
     */
    private static final class Scheduler {
        private final Path cellDir;
        private final List<SweepCell> cells;
        private final CellClaims claims;
        private final Set<String> busyHere = new HashSet<>();
        final List<String> takenOver = Collections.synchronizedList(new ArrayList<>());
        private int saidWaiting = -1;

        Scheduler(Path cellDir, List<SweepCell> cells, CellClaims claims) {
            this.cellDir = cellDir;
            this.cells = cells;
            this.claims = claims;
        }

        private boolean finished(String id) {
            return Files.isRegularFile(cellDir.resolve(id + ".json"));
        }

        int finished() {
            int n = 0;
            for (SweepCell c : cells) if (finished(c.id())) n++;
            return n;
        }

        synchronized SweepCell next() throws InterruptedException {
            while (true) {
                boolean heldElsewhere = false;
                int elsewhere = 0;
                for (SweepCell c : cells) {
                    String id = c.id();
                    if (busyHere.contains(id) || finished(id)) continue;
                    if (claims.tryClaim(id)) {
                        if (finished(id)) { // finished between the look and the claim
                            claims.release(id);
                            continue;
                        }
                        busyHere.add(id);
                        return c;
                    }
                    CellClaims.Holder h = claims.holder(id);
                    heldElsewhere = true;
                    elsewhere++;
                    if (h == null) continue; // released just now: looked at again on the next pass
                    String why = claims.staleness(h);
                    if (why != null && claims.takeOver(h)) {
                        if (finished(id)) {
                            claims.release(id);
                            continue;
                        }
                        System.err.println("unmask: took over cell " + id + " from " + h.label() + ": its claim was " + why);
                        takenOver.add(id);
                        busyHere.add(id);
                        return c;
                    }
                }
                if (!heldElsewhere) return null;
                if (busyHere.isEmpty() && saidWaiting != elsewhere) {
                    // a task of a job array that looks idle says why, once per change
                    System.err.println("unmask: " + elsewhere + " cell(s) left, all held by other workers: waiting for them to finish"
                            + " (a claim without a heartbeat for its timeout is taken over)");
                    saidWaiting = elsewhere;
                }
                wait(claims.pollPeriod().toMillis());
            }
        }

        synchronized void done(SweepCell c) {
            claims.release(c.id());
            busyHere.remove(c.id());
            notifyAll();
        }
    }

    /**
     * The buffer's first positions (the reference's length and 4 more) as decoded, each token over
     * the step that wrote it, so a sample shows what was committed before what.
     */
    static String writeOrder(EpisodeResult e, Vocabulary vocab) {
        int shown = Math.min(e.buffer().length, vocab.encode(e.example().answer()).length + 4);
        StringBuilder tokens = new StringBuilder("      tokens:"), steps = new StringBuilder("      step:  ");
        for (int i = 0; i < shown; i++) {
            String t = e.buffer()[i] == vocab.eosId() ? "$" : vocab.token(e.buffer()[i]);
            String st = Integer.toString(e.unmaskedAtStep()[i]);
            int w = Math.max(t.length(), st.length()) + 1;
            tokens.append(" ".repeat(w - t.length())).append(t);
            steps.append(" ".repeat(w - st.length())).append(st);
        }
        return tokens.append("   ($ = EOS)\n").append(steps).append('\n').toString();
    }

    /**
     * failures.csv and failures.md: each cell's wrong answers by cause, for the cells that have a
     * count (cells finished before counts were kept have none). Returns the files written.
     */
    public static List<Path> writeFailureTables(Path dir, List<String> cellIds, List<EvalRow> rows) {
        StringBuilder csv = new StringBuilder("task,mode,block_length,gen_length,policy_params,n,accuracy,mean_nfe,wrong,early_eos,before_its_dependency,other,seed,split\n");
        StringBuilder md = new StringBuilder("| task | B | policy | n | accuracy | NFE | wrong | early EOS | before its dependency | other |\n|---|---|---|---|---|---|---|---|---|---|\n");
        int written = 0;
        for (int i = 0; i < cellIds.size(); i++) {
            Path f = dir.resolve(CELLS).resolve(cellIds.get(i) + FAILURES);
            if (!Files.isRegularFile(f)) continue;
            FailureCauses.Counts k = Json.read(f, FailureCauses.Counts.class);
            EvalRow r = rows.get(i);
            csv.append(String.join(",", r.task(), r.mode(), Integer.toString(r.blockLength()), Integer.toString(r.genLength()),
                    "\"" + r.policyParams() + "\"", Integer.toString(k.n()), String.format(Locale.ROOT, "%.4f", r.accuracy()),
                    String.format(Locale.ROOT, "%.2f", r.meanNfe()), Integer.toString(k.wrong()), Integer.toString(k.earlyEos()),
                    Integer.toString(k.beforeItsDependency()), Integer.toString(k.other()), Long.toString(r.seed()), r.split())).append('\n');
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.3f | %.2f | %d | %d | %d | %d |%n", r.task(),
                    r.mode().equals("full") ? "full" : Integer.toString(r.blockLength()), r.policyParams(), k.n(), r.accuracy(), r.meanNfe(),
                    k.wrong(), k.earlyEos(), k.beforeItsDependency(), k.other()));
            written++;
        }
        if (written == 0) return List.of();
        AtomicFiles.writeString(dir.resolve("failures.csv"), csv.toString());
        AtomicFiles.writeString(dir.resolve("failures.md"), md.toString());
        return List.of(dir.resolve("failures.csv"), dir.resolve("failures.md"));
    }
}
