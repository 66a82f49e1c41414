package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class HeadToHeadTest {
    private static EvalRow row(String policy, int block, double acc, double lo, double hi, double nfe) {
        return new EvalRow("arith", block == 64 ? "full" : "semi-ar", block, 64, policy, policy + "(" + acc + ")", 100, acc, lo, hi, nfe,
                nfe, nfe, nfe, 64 / nfe, 0, 0, 0, "d", 1, "test", null);
    }

    @Test
    void comparesOnlyWithinTheSameConfigurationAndNamesTheRelevantHeuristics() {
        List<EvalRow> rows = List.of(
                row("topk", 64, 0.95, 0.90, 0.98, 64),   // more accurate but dearer
                row("threshold", 64, 0.60, 0.50, 0.69, 12), // cheaper, clearly worse
                row("threshold", 64, 0.75, 0.66, 0.82, 20),
                row("topk", 8, 0.99, 0.95, 1.0, 10),     // other block length: ignored
                row("learned", 64, 0.90, 0.83, 0.95, 18));
        HeadToHead.Verdict v = HeadToHead.compare(rows).get(0);
        assertEquals(0.60, v.bestAtNoMoreNfe().orElseThrow().accuracy(), "best heuristic at <= 18 NFE");
        assertTrue(v.moreAccurateSeparated(), "0.83 > 0.69");
        assertEquals(64, v.cheapestAtNoLessAccuracy().orElseThrow().meanNfe());
        assertTrue(v.fewerNfe());
        assertEquals(0.30, v.accuracyGap(), 1e-9);
        assertTrue(HeadToHead.markdown(List.of(v)).contains("| arith L=64 full | learned(0.9) |"));
    }

    @Test
    void overlappingIntervalsAreNotCalledSeparated() {
        List<EvalRow> rows = List.of(row("threshold", 64, 0.85, 0.77, 0.91, 16), row("learned", 64, 0.90, 0.83, 0.95, 18));
        HeadToHead.Verdict v = HeadToHead.compare(rows).get(0);
        assertFalse(v.moreAccurateSeparated());
        assertTrue(v.fewerNfe(), "no heuristic is as accurate");
    }

    @Test
    void alsoPlacesEachLearnedPointAgainstThePublishedRulesAlone() {
        // this project's frontier rule is the best heuristic at <= 18 NFE; the best published one is the threshold
        List<EvalRow> rows = List.of(
                row("frontier", 64, 0.92, 0.86, 0.96, 17),
                row("threshold", 64, 0.70, 0.61, 0.78, 16),
                row("threshold", 64, 0.95, 0.90, 0.98, 30),
                row("learned", 64, 0.90, 0.83, 0.95, 18));
        HeadToHead.Verdict v = HeadToHead.compare(rows).get(0);
        assertEquals("frontier", v.bestAtNoMoreNfe().orElseThrow().policy());
        assertFalse(v.moreAccurateSeparated());
        assertEquals(0.70, v.bestPublishedAtNoMoreNfe().orElseThrow().accuracy());
        assertEquals("yes", v.publishedSeparatedLabel(), "0.83 > 0.78");
        String md = HeadToHead.markdown(List.of(v));
        assertTrue(md.contains("| threshold(0.7) | 0.700 [0.610, 0.780] @ 16.0 | yes |"), md);

        List<EvalRow> onlyFrontierCheaper = List.of(row("frontier", 64, 0.92, 0.86, 0.96, 17), row("learned", 64, 0.90, 0.83, 0.95, 18));
        HeadToHead.Verdict w = HeadToHead.compare(onlyFrontierCheaper).get(0);
        assertTrue(w.bestPublishedAtNoMoreNfe().isEmpty());
        assertEquals("no published rule at <= 18.0 NFE", w.publishedSeparatedLabel());
    }

    @Test
    void aLearnedPointCheaperThanEveryHeuristicIsNotCalledSeparated() {
        // every heuristic spends more NFE: there is nothing to compare accuracy with
        List<EvalRow> rows = List.of(row("threshold", 64, 0.99, 0.97, 1.0, 4), row("learned", 64, 0.50, 0.40, 0.60, 1.4));
        HeadToHead.Verdict v = HeadToHead.compare(rows).get(0);
        assertTrue(v.bestAtNoMoreNfe().isEmpty());
        assertFalse(v.moreAccurateSeparated());
        String md = HeadToHead.markdown(List.of(v));
        assertTrue(md.contains("| no heuristic at <= 1.4 NFE |"), md);
        assertFalse(md.contains("| yes |"), md);
    }
}
