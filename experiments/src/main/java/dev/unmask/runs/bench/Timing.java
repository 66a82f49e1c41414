package dev.unmask.runs.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** How the benches time: warm-up until the JIT settles, medians, and the Nd4j.gemm peak each bench is measured against. */
public final class Timing {
    /** At least this long and this many calls of warm-up per shape, then until the JIT settles. */
    public static final long WARM_MIN_NANOS = 2_000_000_000L;
    public static final int WARM_MIN_CALLS = 10;

    private Timing() {
    }

    /** {@code inner} products of two random 256 x 256 floats into a preallocated output: the peak the interleaved benches time beside their work. */
    static Runnable gemm256(int inner) {
        INDArray a = Nd4j.rand(DataType.FLOAT, 256, 256), b = Nd4j.rand(DataType.FLOAT, 256, 256);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{256, 256}, 'f');
        return () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        };
    }

    static double gemmPeak(int size, int reps) {
        INDArray a = Nd4j.rand(DataType.FLOAT, size, size), b = Nd4j.rand(DataType.FLOAT, size, size);
        INDArray c = Nd4j.create(DataType.FLOAT, new long[]{size, size}, 'f');
        int inner = size >= 1024 ? 2 : 50;
        double ms = warmThenMedian(reps, () -> {
            for (int i = 0; i < inner; i++) Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }) / inner;
        return 2.0 * size * size * size / ms / 1e6;
    }

    /**
     * Warms the body up (at least {@link #WARM_MIN_CALLS} calls and {@link #WARM_MIN_NANOS}, then
     * until the median of the last 5 calls moves by less than 3% from the 5 before, at most 60 s),
     * then returns the median of {@code reps} timed calls in ms. A single warm-up call times the JIT.
     */
    public static double warmThenMedian(int reps, Runnable body) {
        long start = System.nanoTime();
        double previous = Double.NaN;
        for (int calls = 0; ; calls += 5) {
            double m = median(5, body);
            boolean settled = Math.abs(m - previous) < 0.03 * previous;
            previous = m;
            long spent = System.nanoTime() - start;
            if (calls >= WARM_MIN_CALLS && spent >= WARM_MIN_NANOS && settled) break;
            if (spent > 60_000_000_000L) break;
        }
        return median(reps, body);
    }

    public static double median(int reps, Runnable body) {
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(t);
        return reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
    }
}
