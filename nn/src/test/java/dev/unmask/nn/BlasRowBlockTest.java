package dev.unmask.nn;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The row block {@link Blas#rowBlock} finds keeps its promise on products it was not probed with:
 * rows computed as separate calls from aligned starts, or with the row blocks in between left out
 * (as the policy update skips blocks without a position in the loss), carry the whole product's bits.
 */
class BlasRowBlockTest {
    private static final List<int[]> SHAPES = List.of(new int[]{32, 32, 0}, new int[]{32, 64, 0}, new int[]{64, 32, 1}, new int[]{16, 128, 1}, new int[]{128, 16, 0});

    @Test
    void alignedPiecesAndSkippedBlocksKeepTheWholeProductsBits() {
        int block = Blas.rowBlock(SHAPES);
        assumeTrue(block > 0, "this machine's OpenBLAS splits no product unchanged: the update runs products whole");
        assertEquals(block, Blas.rowBlock(SHAPES), "probed once, then cached");
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] s : SHAPES) {
            for (int n : new int[]{128, 1000, 3 * block * 7 + 5}) {
                int inner = s[0], cols = s[1], ldb = s[2] == 1 ? inner : cols;
                boolean transB = s[2] == 1;
                OffHeapFloats a = random(n * inner, rng), b = random(inner * cols, rng), whole = new OffHeapFloats(n * cols);
                Blas.gemm(false, transB, n, cols, inner, 1f, a, 0, inner, b, 0, ldb, 0f, whole, 0, cols);
                // every other run of blocks, each run one call from its aligned start; the last block ends at n
                OffHeapFloats pieces = new OffHeapFloats(n * cols);
                boolean[] computed = new boolean[n];
                for (int start = 0; start < n; start += 2 * block) {
                    int end = Math.min(n, start + block * (1 + rng.nextInt(2)));
                    Blas.gemm(false, transB, end - start, cols, inner, 1f, a, start * inner, inner, b, 0, ldb, 0f, pieces, start * cols, cols);
                    for (int i = start; i < end; i++) computed[i] = true;
                }
                for (int i = 0; i < n; i++) {
                    if (!computed[i]) continue;
                    for (int j = 0; j < cols; j++) {
                        assertEquals(Float.floatToRawIntBits(whole.get(i * cols + j)), Float.floatToRawIntBits(pieces.get(i * cols + j)),
                                inner + "x" + cols + (transB ? "T" : "") + ", " + n + " rows: row " + i + " column " + j);
                    }
                }
            }
        }
    }

    private static OffHeapFloats random(int size, SplittableRandom rng) {
        OffHeapFloats x = new OffHeapFloats(size);
        for (int i = 0; i < size; i++) x.set(i, (float) (rng.nextDouble() * 2 - 1));
        return x;
    }
}
