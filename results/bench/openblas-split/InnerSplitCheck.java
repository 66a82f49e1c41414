import dev.unmask.nn.Blas;
import dev.unmask.nn.OffHeapFloats;

import java.util.Random;

/**
 * Can a weight-gradient product (G = X^T dY, its inner dimension the 32768 positions) leave out
 * the rows of steps whose gradient dY is exactly 0 and keep its bits? A step is 128 positions; 45%
 * of the steps get dY = 0. Each product is computed whole, then (a) cut along its inner dimension
 * into chunks of Q rows added up in order (beta 1), and (b) the same with each chunk's zero steps
 * left out (one chunk: the zero steps left out of the whole product). Prints how many entries of G
 * differ from the whole product's. Run from the repository root after a build (see README.md).
 */
public class InnerSplitCheck {
    public static void main(String[] args) {
        int n = 32768, step = 128;
        Random rng = new Random(5);
        System.out.println("| product (inner x rows x columns) | computed as | entries | differ |");
        System.out.println("|---|---|---|---|");
        for (int[] shape : new int[][]{{4, 32}, {32, 32}, {32, 64}, {64, 32}}) { // columns of X, of dY
            int ci = shape[0], co = shape[1];
            float[] x = new float[n * ci], g = new float[n * co];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            boolean[] zeroStep = new boolean[n / step];
            for (int s = 0; s < zeroStep.length; s++) zeroStep[s] = rng.nextDouble() < 0.45;
            for (int i = 0; i < n; i++) for (int c = 0; c < co; c++) g[i * co + c] = zeroStep[i / step] ? 0f : (float) rng.nextGaussian() * 1e-3f;
            OffHeapFloats xs = new OffHeapFloats(n * ci), gs = new OffHeapFloats(n * co), whole = new OffHeapFloats(ci * co), cut = new OffHeapFloats(ci * co);
            xs.put(0, x, 0, x.length);
            gs.put(0, g, 0, g.length);
            Blas.gemm(true, false, ci, co, n, 1f, xs, 0, ci, gs, 0, co, 0f, whole, 0, co);
            String name = n + " x " + ci + " x " + co;
            for (int q : new int[]{128, 256, 384, 512, 2048}) {
                for (int a = 0; a < n; a += q) {
                    Blas.gemm(true, false, ci, co, Math.min(q, n - a), 1f, xs, a * ci, ci, gs, a * co, co, a == 0 ? 0f : 1f, cut, 0, co);
                }
                report(name, "chunks of " + q + " rows added up", whole, cut);
            }
            OffHeapFloats xc = new OffHeapFloats(n * ci), gc = new OffHeapFloats(n * co);
            for (int q : new int[]{0, 384, 2048}) {
                int chunk = q == 0 ? n : q;
                boolean first = true;
                for (int a = 0; a < n; a += chunk) {
                    int kept = 0;
                    for (int i = a; i < Math.min(n, a + chunk); i += step) {
                        if (zeroStep[i / step]) continue;
                        xc.put(kept * ci, x, i * ci, step * ci);
                        gc.put(kept * co, g, i * co, step * co);
                        kept += step;
                    }
                    if (kept == 0) continue;
                    Blas.gemm(true, false, ci, co, kept, 1f, xc, 0, ci, gc, 0, co, first ? 0f : 1f, cut, 0, co);
                    first = false;
                }
                report(name, q == 0 ? "zero steps left out" : "chunks of " + q + " rows, zero steps left out", whole, cut);
            }
        }
    }

    private static void report(String product, String how, OffHeapFloats whole, OffHeapFloats cut) {
        float[] a = whole.toArray(), b = cut.toArray();
        int differ = 0;
        for (int i = 0; i < a.length; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) differ++;
        System.out.printf("| %s | %s | %,d | %,d (%.1f%%) |%n", product, how, a.length, differ, 100.0 * differ / a.length);
    }
}
