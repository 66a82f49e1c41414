package dev.unmask.nn;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import static org.bytedeco.openblas.global.openblas_nolapack.*;

/**
 * Row-major single-precision GEMM straight into OpenBLAS (the same library ND4J links), on
 * {@link OffHeapFloats} with offsets and leading dimensions. Measured here against
 * {@code Nd4j.gemm} into a preallocated output: the same kernels, 1.2-2x faster on the dLLM's
 * [2544 x 96] x [96 x 384] products, and about 2 us instead of 60 us on a 53 x 53 x 24 product
 * (one attention head), where ND4J's per-call overhead dominates.
 */
public final class Blas {
    static {
        Loader.load(openblas_nolapack.class);
    }

    /** Row blocks tried by {@link #rowBlock}: multiples of OpenBLAS's column blocks (3 or 6 times its kernel's 2, 4, 6 or 8). */
    private static final int[] ROW_BLOCKS = {12, 24, 48, 144, 288, 576};
    private static final Map<String, Integer> ROW_BLOCK_CACHE = new ConcurrentHashMap<>();

    private Blas() {
    }

    /**
     * The smallest row count B such that this machine's OpenBLAS computes any rows [s, e) of a
     * row-major product op(A) B (no transposed A) on their own exactly as in the whole product,
     * when s is a multiple of B and e is too or is the product's end; 0 if none of those tried does.
     * OpenBLAS promises nothing of the kind: its kernel computes an output with a column block's
     * code (our rows are its columns), so a row's bits depend on where its block starts. Measured
     * here on the given shapes ({inner, columns, transB (1) or not (0)}) with random values at
     * 4,096 + 4 rows, split at several aligned rows; cached per set of shapes.
     */
    public static int rowBlock(List<int[]> shapes) {
        StringBuilder key = new StringBuilder();
        for (int[] s : shapes) key.append(s[0]).append('x').append(s[1]).append(s[2] == 1 ? "T" : "N").append(' ');
        return ROW_BLOCK_CACHE.computeIfAbsent(key.toString(), k -> probeRowBlock(shapes));
    }

    private static int probeRowBlock(List<int[]> shapes) {
        int n = 4096 + 4;
        for (int block : ROW_BLOCKS) {
            boolean same = true;
            for (int i = 0; i < shapes.size() && same; i++) same = splitsUnchanged(n, shapes.get(i)[0], shapes.get(i)[1], shapes.get(i)[2] == 1, block);
            if (same) return block;
        }
        return 0;
    }

    /** Whole against three calls split at aligned rows (one a block in, one near the middle). */
    private static boolean splitsUnchanged(int n, int inner, int cols, boolean transB, int block) {
        SplittableRandom rng = new SplittableRandom(inner * 31L + cols);
        OffHeapFloats a = random(n * inner, rng), b = random(inner * cols, rng);
        int ldb = transB ? inner : cols;
        OffHeapFloats whole = new OffHeapFloats(n * cols), split = new OffHeapFloats(n * cols);
        gemm(false, transB, n, cols, inner, 1f, a, 0, inner, b, 0, ldb, 0f, whole, 0, cols);
        int[] at = {0, block, (n / 2 / block) * block, n};
        for (int p = 0; p + 1 < at.length; p++) {
            int from = at[p], rows = at[p + 1] - from;
            gemm(false, transB, rows, cols, inner, 1f, a, from * inner, inner, b, 0, ldb, 0f, split, from * cols, cols);
        }
        float[] x = new float[n * cols], y = new float[n * cols];
        whole.get(0, x, 0, x.length);
        split.get(0, y, 0, y.length);
        return java.util.Arrays.equals(x, y); // compares bit patterns (NaN aside, which random values in [-1, 1) never give)
    }

    private static OffHeapFloats random(int size, SplittableRandom rng) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        OffHeapFloats out = new OffHeapFloats(size);
        out.put(0, x, 0, size);
        return out;
    }

    /**
     * C = alpha op(A) op(B) + beta C with op(A) [m x k], op(B) [k x n], C [m x n], all row-major;
     * {@code lda}, {@code ldb}, {@code ldc} are the row strides of A, B, C as stored.
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            OffHeapFloats a, int aOffset, int lda, OffHeapFloats b, int bOffset, int ldb,
                            float beta, OffHeapFloats c, int cOffset, int ldc) {
        checkExtent(a, aOffset, transA ? k : m, lda, transA ? m : k, "A");
        checkExtent(b, bOffset, transB ? n : k, ldb, transB ? k : n, "B");
        checkExtent(c, cOffset, m, ldc, n, "C");
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a.at(0, aOffset), lda, b.at(1, bOffset), ldb, beta, c.at(2, cOffset), ldc);
    }

    /** A native call has no bounds checks: refuse a product that would read or write outside the buffer. */
    private static void checkExtent(OffHeapFloats x, int offset, int rows, int ld, int cols, String name) {
        if (cols > ld) throw new IllegalArgumentException(name + ": " + cols + " columns exceed the row stride " + ld);
        long end = offset + (long) (rows - 1) * ld + cols;
        if (rows > 0 && (offset < 0 || end > x.size())) {
            throw new IndexOutOfBoundsException(name + ": rows " + rows + " x stride " + ld + " from " + offset + " exceed the buffer of " + x.size());
        }
    }
}
