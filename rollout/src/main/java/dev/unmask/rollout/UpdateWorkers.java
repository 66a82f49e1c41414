package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of the fast policy update ({@link FastPolicyGradients}). They only ever run pieces
 * that compute exactly what they would compute alone: disjoint row ranges of a row-wise operation
 * (a matrix product's rows split only where OpenBLAS computes them unchanged, {@code Blas.rowBlock}),
 * or whole matrix products. No sum is split between threads, so the update's
 * result is bit for bit the same with any number of threads ({@code UpdateThreadsBitIdentityTest});
 * only its wall time changes.
 *
 * <p>The count comes from {@code UNMASK_UPDATE_THREADS} (as OpenBLAS's from
 * {@code OMP_NUM_THREADS}), by default the processors this JVM may use, at most
 * {@value #DEFAULT_MAX}. The caller is one of the threads; the others are daemon threads shared by
 * every update of that count.
 */
final class UpdateWorkers {
    static final String ENV = "UNMASK_UPDATE_THREADS";
    /** More threads than this gain little on a one-layer policy's minibatch (memory-bound passes). */
    static final int DEFAULT_MAX = 4;
    private static final ConcurrentHashMap<Integer, UpdateWorkers> SHARED = new ConcurrentHashMap<>();

    /** A piece of work that is told which thread runs it (0 = the caller), to pick that thread's scratch. */
    @FunctionalInterface
    interface Task {
        void run(int worker);
    }

    /** The rows [from, to) of a row-wise operation, on thread {@code worker}. */
    @FunctionalInterface
    interface Range {
        void run(int worker, int from, int to);
    }

    private final int threads;
    private final ExecutorService pool; // threads - 1 helpers; null with one thread
    /** The piece this thread runs (whose workers, which worker), null outside one: work a piece starts runs on its thread alone. */
    private record Piece(UpdateWorkers owner, int worker) {
    }

    private static final ThreadLocal<Piece> PIECE = new ThreadLocal<>();

    private UpdateWorkers(int threads) {
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "policy-update");
            t.setDaemon(true);
            return t;
        });
    }

    /** The shared workers for {@code threads} threads (at least 1). */
    static UpdateWorkers of(int threads) {
        if (threads < 1) throw new IllegalArgumentException("policy update threads must be at least 1, got " + threads);
        return SHARED.computeIfAbsent(threads, UpdateWorkers::new);
    }

    /** {@code UNMASK_UPDATE_THREADS}, or the available processors up to {@value #DEFAULT_MAX}. */
    static int configuredThreads() {
        String v = System.getenv(ENV);
        if (v == null || v.isBlank()) return Math.max(1, Math.min(DEFAULT_MAX, Runtime.getRuntime().availableProcessors()));
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UnmaskException(ENV + " must be a whole number of at least 1, got '" + v + "'");
    }

    int threads() {
        return threads;
    }

    /** {@code body} over [0, n) in chunks of {@code chunk}, each chunk to whichever thread is free next. */
    void forRanges(int n, int chunk, Range body) {
        if (threads == 1 || n <= chunk || PIECE.get() != null) { // inside a piece: on this thread, never waiting on busy helpers
            int worker = nestedWorker();
            for (int from = 0; from < n; from += chunk) body.run(worker, from, Math.min(n, from + chunk));
            return;
        }
        AtomicInteger next = new AtomicInteger();
        runOnAll(worker -> {
            for (int from = next.getAndAdd(chunk); from < n; from = next.getAndAdd(chunk)) body.run(worker, from, Math.min(n, from + chunk));
        });
    }

    /** Every task once, each on one thread, the next task to whichever thread is free; returns when all are done. */
    void all(Task... tasks) {
        if (threads == 1 || PIECE.get() != null) {
            int worker = nestedWorker();
            for (Task t : tasks) t.run(worker);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        runOnAll(worker -> {
            for (int i = next.getAndIncrement(); i < tasks.length; i = next.getAndIncrement()) tasks[i].run(worker);
        });
    }

    /**
     * The worker index for work started inside a piece: the piece's own for these workers; 0 for
     * other workers (a one-thread engine that this piece alone uses, as fast-eligible's groups).
     */
    private int nestedWorker() {
        Piece piece = PIECE.get();
        return piece != null && piece.owner() == this ? piece.worker() : 0;
    }

    private void runAsPiece(Task loop, int worker) {
        PIECE.set(new Piece(this, worker));
        try {
            loop.run(worker);
        } finally {
            PIECE.remove();
        }
    }

    private void runOnAll(Task loop) {
        List<Future<?>> helpers = new ArrayList<>(threads - 1);
        for (int w = 1; w < threads; w++) {
            int worker = w;
            helpers.add(pool.submit(() -> runAsPiece(loop, worker)));
        }
        Throwable failure = null;
        try {
            runAsPiece(loop, 0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : helpers) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException("policy update thread failed", failure);
    }
}
