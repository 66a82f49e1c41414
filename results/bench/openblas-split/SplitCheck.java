import dev.unmask.nn.Blas;
import dev.unmask.nn.OffHeapFloats;

import java.util.Random;

/**
 * Does OpenBLAS give a row of a product the same bits when the product is computed as two calls?
 * For the policy update's shapes (32768 positions, d 32, MLP 64), each product is computed whole,
 * then as two calls split by rows (at several points, some of them multiples of 12) and by columns;
 * prints how many entries differ, and the row block Blas.rowBlock finds for these shapes.
 * Run from the repository root after a build (see README.md in this folder).
 */
public class SplitCheck {
    public static void main(String[] args) {
        Random rng = new Random(1);
        int n = 32768;
        int[][] shapes = {{4, 32}, {32, 32}, {32, 64}, {64, 32}}; // inner, columns: embedding, projections, MLP in, MLP out
        System.out.println("| product (rows x columns x inner) | split | entries | differ |");
        System.out.println("|---|---|---|---|");
        for (int[] s : shapes) {
            int k = s[0], m = s[1];
            OffHeapFloats a = random(n * k, rng), w = random(k * m, rng), whole = new OffHeapFloats(n * m), split = new OffHeapFloats(n * m);
            Blas.gemm(false, false, n, m, k, 1f, a, 0, k, w, 0, m, 0f, whole, 0, m);
            for (int at : new int[]{n / 2, 12345, 8, 16380, 12348, 12}) {
                Blas.gemm(false, false, at, m, k, 1f, a, 0, k, w, 0, m, 0f, split, 0, m);
                Blas.gemm(false, false, n - at, m, k, 1f, a, at * k, k, w, 0, m, 0f, split, at * m, m);
                report(n + " x " + m + " x " + k, "rows at " + at + (at % 12 == 0 ? " (12 x " + at / 12 + ")" : ""), whole, split, n * m);
            }
            for (int at : new int[]{m / 2, 8}) {
                Blas.gemm(false, false, n, at, k, 1f, a, 0, k, w, 0, m, 0f, split, 0, m);
                Blas.gemm(false, false, n, m - at, k, 1f, a, 0, k, w, at, m, 0f, split, at, m);
                report(n + " x " + m + " x " + k, "columns at " + at, whole, split, n * m);
            }
        }
        System.out.println();
        System.out.println("Blas.rowBlock for these shapes: " + Blas.rowBlock(java.util.List.of(new int[]{4, 32, 0}, new int[]{32, 32, 0}, new int[]{32, 64, 0}, new int[]{64, 32, 0})));
    }

    private static OffHeapFloats random(int size, Random rng) {
        OffHeapFloats x = new OffHeapFloats(size);
        for (int i = 0; i < size; i++) x.set(i, (float) rng.nextGaussian());
        return x;
    }

    private static void report(String product, String split, OffHeapFloats want, OffHeapFloats got, int size) {
        int differ = 0;
        for (int i = 0; i < size; i++) if (Float.floatToRawIntBits(want.get(i)) != Float.floatToRawIntBits(got.get(i))) differ++;
        System.out.printf("| %s | %s | %,d | %,d (%.1f%%) |%n", product, split, size, differ, 100.0 * differ / size);
    }
}
