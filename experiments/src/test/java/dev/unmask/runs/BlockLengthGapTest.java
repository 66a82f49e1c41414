package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BlockLengthGapTest {
    private static EvalRow row(String policy, int block, double acc, double lo, double hi, double nfe) {
        return new EvalRow("fib", block == 128 ? "full" : "semi-ar", block, 128, policy, policy + "(" + acc + ")", 500, acc, lo, hi, nfe,
                nfe, nfe, nfe, 128 / nfe, 0, 0, 0, "d", 1, "test", null);
    }

    @Test
    void eachSemiArPointMeetsTheBestFullDiffusionPointThatSpendsNoMore() {
        List<EvalRow> rows = List.of(
                row("threshold", 128, 0.40, 0.36, 0.44, 10),
                row("threshold", 128, 0.55, 0.51, 0.59, 20),
                row("topk", 128, 0.97, 0.95, 0.98, 128),   // dearer than every semi-AR point: never the comparison
                row("random", 128, 0.90, 0.87, 0.92, 16),  // not a confidence rule: ignored
                row("threshold", 8, 0.80, 0.76, 0.83, 20),  // 25 points above 0.55 at 20 NFE
                row("threshold", 32, 0.60, 0.56, 0.64, 22), // 5 points above
                row("threshold", 16, 0.95, 0.93, 0.97, 8),  // no full point that cheap
                row("threshold", 64, 0.99, 0.98, 1.0, 30),  // B > 32: not compared
                row("learned", 8, 0.99, 0.98, 1.0, 12));
        List<BlockLengthGap.Gap> gaps = BlockLengthGap.gaps(rows, 32);
        assertEquals(3, gaps.size());
        BlockLengthGap.Gap b8 = gaps.get(0), b16 = gaps.get(1), b32 = gaps.get(2);
        assertEquals(8, b8.semiAr().blockLength());
        assertEquals(0.55, b8.bestFullAtNoMoreNfe().orElseThrow().accuracy());
        assertEquals(0.25, b8.gap(), 1e-12);
        assertTrue(b8.apart());
        assertTrue(b16.bestFullAtNoMoreNfe().isEmpty() && Double.isNaN(b16.gap()) && !b16.apart());
        assertEquals(0.05, b32.gap(), 1e-12);
        assertFalse(b32.apart(), "intervals overlap");
        String md = BlockLengthGap.markdown(gaps, 0.10);
        assertEquals(3, md.lines().count(), "header, rule and the one point 10 or more above: " + md);
        assertTrue(md.contains("| fib | 8 | threshold(0.8) |"), md);
    }
}
