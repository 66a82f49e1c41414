package dev.unmask.nn;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

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

    private Blas() {
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
