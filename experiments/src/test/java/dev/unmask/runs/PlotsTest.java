package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotsTest {
    private static EvalRow row(String policy, String params) {
        return row(policy, params, 0.5, 30);
    }

    private static EvalRow row(String policy, String params, double accuracy, double nfe) {
        return new EvalRow("lag48", "full", 128, 128, policy, params, 100, accuracy, accuracy - 0.1, accuracy + 0.1, nfe, nfe, nfe, nfe, 4, 0, 0, 0, "d", 1, "test", null);
    }

    private static XYSeries seriesWith(XYChart chart, String label) {
        return chart.getSeriesCollection().stream().filter(s -> s.getName().equals(label)).findFirst().orElseThrow(() -> new AssertionError("no series " + label));
    }

    @Test
    void aFamilyHasOneColourInEveryPlotWhateverTheRowOrder() {
        XYChart a = Plots.accuracyVsNfeChart("a", List.of(row("eb", "eb(gamma=0.5)", 0.8, 20), row("threshold", "threshold(tau=0.9)", 0.9, 30),
                row("threshold", "threshold(tau=0.8)", 0.85, 25)));
        XYChart b = Plots.accuracyVsNfeChart("b", List.of(row("topk", "topk(steps=2)", 0.7, 40), row("threshold", "threshold(tau=0.7)", 0.8, 20),
                row("factor", "factor(f=2.0)", 0.9, 30), row("threshold", "threshold(tau=0.9)", 0.9, 30)));
        assertEquals(seriesWith(a, "threshold").getLineColor(), seriesWith(b, "threshold").getLineColor());
        assertEquals(seriesWith(a, "threshold").getMarkerColor(), seriesWith(b, "threshold").getMarkerColor());
        assertEquals(Plots.familyColor("threshold"), seriesWith(b, "threshold").getLineColor());
        assertNotEquals(Plots.familyColor("threshold"), Plots.familyColor("eb"));
        assertEquals(List.of("topk", "threshold", "factor", "eb", "klass", "margin", "entropy", "random", "frontier", "learned").size(),
                List.of("topk", "threshold", "factor", "eb", "klass", "margin", "entropy", "random", "frontier", "learned").stream().map(Plots::familyColor).distinct().count(),
                "each family its own colour");
    }

    private static EvalRow blockRow(String policy, String params, double accuracy, double nfe) {
        return new EvalRow("lag48", "semi-ar", 32, 128, policy, params, 100, accuracy, accuracy - 0.1, accuracy + 0.1, nfe, nfe, nfe, nfe, 4, 0, 0, 0, "d", 1, "test", null);
    }

    /** Full diffusion beside blocks: each rule twice in its family's colour, the block series named with B and drawn dotted; the front over both. */
    @Test
    void fullDiffusionBesideBlocksNamesTheBlockSeriesAndTakesTheFrontOverBoth() {
        List<EvalRow> full = List.of(row("threshold", "threshold(tau=0.9)", 0.6, 30), row("threshold", "threshold(tau=0.99)", 0.7, 40),
                row("learned", "learned(mode=greedy,policy=runs/p/policy,temp=1.0)", 0.85, 36));
        List<EvalRow> blocks = List.of(blockRow("threshold", "threshold(tau=0.9)", 0.7, 31), blockRow("threshold", "threshold(tau=0.99)", 0.8, 41));
        XYChart chart = Plots.accuracyVsNfeBesideBlocksChart("t", full, blocks);
        XYSeries fullSeries = seriesWith(chart, "threshold"), blockSeries = seriesWith(chart, "threshold, B=32");
        assertEquals(fullSeries.getLineColor(), blockSeries.getLineColor());
        assertTrue(Arrays.equals(org.knowm.xchart.style.lines.SeriesLines.DOT_DOT.getDashArray(), blockSeries.getLineStyle().getDashArray()), "dotted");
        assertTrue(Arrays.equals(new double[]{31, 41}, blockSeries.getXData()));
        // the front: full threshold at 30 NFE (0.6), the block threshold at 31 (0.7), the learned policy at 36 (0.85); nothing above 0.85 later
        XYSeries front = seriesWith(chart, "Pareto front");
        assertTrue(Arrays.equals(new double[]{30, 31, 36}, front.getXData()), Arrays.toString(front.getXData()));
        assertEquals("Pareto front", chart.getSeriesCollection().iterator().next().getName(), "drawn first, under every marker");
        assertThrowsOneFigure(() -> Plots.accuracyVsNfeBesideBlocksChart("t", blocks, blocks));
        assertThrowsOneFigure(() -> Plots.accuracyVsNfeBesideBlocksChart("t", full, full));
    }

    private static void assertThrowsOneFigure(org.junit.jupiter.api.function.Executable e) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, e);
    }

    /** The block-length plots keep the family colours too: each setting a shade of its family's colour, on a log axis from 8 to 128. */
    @Test
    void blockLengthPlotsColourEachSettingByItsFamily() {
        List<EvalRow> rows = new java.util.ArrayList<>();
        for (int b : new int[]{8, 32, 128}) {
            rows.add(new EvalRow("lag48", b == 128 ? "full" : "semi-ar", b, 128, "threshold", "threshold(tau=0.9)", 100, 0.5, 0.4, 0.6, 20, 20, 20, 20, 4, 0, 0, 0, "d", 1, "test", null));
            rows.add(new EvalRow("lag48", b == 128 ? "full" : "semi-ar", b, 128, "threshold", "threshold(tau=0.99)", 100, 0.6, 0.5, 0.7, 25, 25, 25, 25, 4, 0, 0, 0, "d", 1, "test", null));
            rows.add(new EvalRow("lag48", b == 128 ? "full" : "semi-ar", b, 128, "eb", "eb(gamma=0.1)", 100, 0.4, 0.3, 0.5, 15, 15, 15, 15, 4, 0, 0, 0, "d", 1, "test", null));
        }
        XYChart chart = Plots.metricVsBlockLengthChart("t", "accuracy", rows, EvalRow::accuracy);
        assertEquals(Plots.familyColor("threshold"), seriesWith(chart, Plots.legendLabel("threshold(tau=0.9)")).getLineColor());
        assertEquals(Plots.shade(Plots.familyColor("threshold"), 1), seriesWith(chart, Plots.legendLabel("threshold(tau=0.99)")).getLineColor());
        assertEquals(Plots.familyColor("eb"), seriesWith(chart, Plots.legendLabel("eb(gamma=0.1)")).getLineColor());
        assertTrue(chart.getStyler().isXAxisLogarithmic());
        assertEquals(new java.awt.Color(255, 255, 255), Plots.shade(new java.awt.Color(255, 255, 255), 2));
        // two learned policies whose long labels shorten alike stay two series
        String a = "learned(mode=greedy,policy=results/policies/grpo-sudoku-full-logodds/policy,temp=1.0)", b = "learned(mode=greedy,policy=results/policies/grpo-sudoku-full-shuffled/policy,temp=1.0)";
        List<EvalRow> learned = new java.util.ArrayList<>();
        for (int blk : new int[]{8, 128}) for (String p : new String[]{a, b}) {
            learned.add(new EvalRow("lag48", blk == 128 ? "full" : "semi-ar", blk, 128, "learned", p, 100, 0.5, 0.4, 0.6, 20, 20, 20, 20, 4, 0, 0, 0, "d", 1, "test", null));
        }
        assertEquals(2, Plots.metricVsBlockLengthChart("t", "accuracy", learned, EvalRow::accuracy).getSeriesCollection().size());
    }

    @Test
    void greedyAndSampledPointsOfALearnedPolicyAreNotJoined() {
        EvalRow greedy = row("learned", "learned(mode=greedy,policy=runs/p/policy,temp=1.0)", 0.915, 1.38);
        EvalRow sampled = row("learned", "learned(mode=sample,policy=runs/p/policy,temp=0.5)", 0.911, 1.39);
        XYChart chart = Plots.accuracyVsNfeChart("t", List.of(greedy, sampled, row("threshold", "threshold(tau=0.9)", 0.92, 1.5)));
        for (XYSeries s : chart.getSeriesCollection()) {
            if (s.getName().equals("Pareto front")) continue;
            boolean hasGreedy = Arrays.stream(s.getXData()).anyMatch(x -> x == 1.38), hasSampled = Arrays.stream(s.getXData()).anyMatch(x -> x == 1.39);
            assertFalse(hasGreedy && hasSampled, s.getName() + " joins the greedy and the sampled point");
        }
        assertEquals(XYSeries.XYSeriesRenderStyle.Scatter, seriesWith(chart, "learned greedy").getXYSeriesRenderStyle().orElseThrow(), "separate policies' points are markers, no line");
        assertEquals(XYSeries.XYSeriesRenderStyle.Scatter, seriesWith(chart, "learned sampled").getXYSeriesRenderStyle().orElseThrow());
        assertEquals("learned knob: k (sampled)", Plots.curveName(row("learned", "learned(knob=2.0,mode=sample,policy=runs/k/policy,temp=1.0)")));
    }

    @Test
    void twoKnobCurvesInOneChartAreTwoShadesOfTheLearnedColour() {
        XYChart chart = Plots.accuracyVsNfeChart("t", List.of(row("learned", "learned(knob=0.0,mode=greedy,policy=runs/a/policy,temp=1.0)", 0.8, 20),
                row("learned", "learned(knob=1.0,mode=greedy,policy=runs/a/policy,temp=1.0)", 0.9, 30),
                row("learned", "learned(knob=0.0,mode=greedy,policy=runs/b/policy,temp=1.0)", 0.7, 25),
                row("learned", "learned(knob=1.0,mode=greedy,policy=runs/b/policy,temp=1.0)", 0.75, 26)));
        java.awt.Color learned = Plots.familyColor("learned");
        assertEquals(learned, seriesWith(chart, "learned knob: a").getLineColor(), "the first curve in the family colour");
        assertEquals(Plots.shade(learned, 1), seriesWith(chart, "learned knob: b").getLineColor(), "the next one paler");
    }

    /** XChart draws text as outlines in the SVG, so the labels are read from the list the chart draws. */
    @Test
    void knobPointsAreLabelledWithTheirKnob(@TempDir Path dir) throws Exception {
        List<EvalRow> rows = List.of(row("learned", "learned(knob=2.0,mode=greedy,policy=runs/k/policy,temp=1.0)", 0.8, 20),
                row("learned", "learned(knob=8.5,mode=greedy,policy=runs/k/policy,temp=1.0)", 0.9, 30),
                row("learned", "learned(mode=greedy,policy=runs/p/policy,temp=1.0)", 0.7, 25),
                row("threshold", "threshold(tau=0.9)", 0.85, 25));
        List<Plots.PointLabel> labels = Plots.pointLabels(rows);
        assertEquals(List.of("knob=2.0", "knob=8.5"), labels.stream().map(Plots.PointLabel::text).toList(), "each knob point, and nothing else");
        assertEquals(20, labels.get(0).x());
        assertTrue(labels.get(0).y() > 0.8 && labels.get(0).y() < 0.82, "just above its point: " + labels.get(0).y());
        Plots.accuracyVsNfe(dir, "k", "knob", rows);
        assertTrue(Files.size(dir.resolve("k.png")) > 0 && Files.size(dir.resolve("k.svg")) > 0);
    }

    @Test
    void theLegendFitsInTheImageEvenWithALongLabel() throws Exception {
        String longRun = "attempt-knob-conditioned-sudoku-full-logodds-long-name-" + "x".repeat(60);
        XYChart chart = Plots.accuracyVsNfeChart("t", List.of(row("learned", "learned(knob=2.0,mode=greedy,policy=runs/" + longRun + "/policy,temp=1.0)", 0.8, 20),
                row("learned", "learned(knob=4.0,mode=greedy,policy=runs/" + longRun + "/policy,temp=1.0)", 0.9, 30)));
        BufferedImage img = new BufferedImage(chart.getWidth(), chart.getHeight(), BufferedImage.TYPE_INT_ARGB);
        java.awt.Graphics2D g = img.createGraphics();
        chart.paint(g, chart.getWidth(), chart.getHeight());
        g.dispose();
        java.lang.reflect.Field f = org.knowm.xchart.internal.chartpart.Chart.class.getDeclaredField("legend");
        f.setAccessible(true);
        Rectangle2D legend = (Rectangle2D) f.get(chart).getClass().getMethod("getBounds").invoke(f.get(chart));
        assertTrue(legend.getWidth() < chart.getWidth() * 0.35, "legend box " + legend + " leaves the plot most of the image (width " + chart.getWidth() + ")");
        assertTrue(chart.getSeriesCollection().stream().allMatch(k -> k.getName().length() <= Plots.LEGEND_CHARS));
        String cut = Plots.legendLabel("learned knob: attempt-" + "x".repeat(40));
        assertEquals(Plots.LEGEND_CHARS, cut.length());
        assertTrue(cut.startsWith("learned knob: ") && cut.contains("\u2026") && cut.endsWith("xxx"), cut);
    }

    @Test
    void theAxesShowWhereThePointsAre() {
        XYChart near = Plots.accuracyVsNfeChart("t", List.of(row("threshold", "threshold(tau=0.7)", 0.80, 1.22), row("threshold", "threshold(tau=0.9)", 0.93, 2.0)));
        double xMin = near.getStyler().getXAxisMin(), xMax = near.getStyler().getXAxisMax();
        assertTrue(xMin > 1.0 && xMin < 1.22 && xMax > 2.0 && xMax < 2.3, "x from " + xMin + " to " + xMax + ": padded around 1.22..2.0, not from 0");
        double yMin = near.getStyler().getYAxisMin(), yMax = near.getStyler().getYAxisMax();
        assertTrue(yMin > 0.7 && yMin < 0.80 && yMax > 0.93 && yMax < 1.0, "y from " + yMin + " to " + yMax);
        assertFalse(near.getStyler().isXAxisLogarithmic());
        XYChart wide = Plots.accuracyVsNfeChart("t", List.of(row("threshold", "threshold(tau=0.7)", 0.80, 3), row("topk", "topk(steps=128)", 0.93, 128)));
        assertTrue(wide.getStyler().isXAxisLogarithmic(), "NFE spanning more than 10x: log scale");
    }

    @Test
    void theParetoLineIsDrawnFirstThinAndDashed() {
        XYChart chart = Plots.accuracyVsNfeChart("t", List.of(row("threshold", "threshold(tau=0.7)", 0.80, 20), row("threshold", "threshold(tau=0.9)", 0.93, 30),
                row("eb", "eb(gamma=1.0)", 0.85, 22)));
        XYSeries first = chart.getSeriesCollection().iterator().next();
        assertEquals("Pareto front", first.getName(), "drawn first, under the markers");
        assertTrue(first.getLineStyle().getDashArray() != null, "dashed");
        assertTrue(first.getLineStyle().getLineWidth() <= 1.5f, "thin");
    }

    @Test
    void aKnobSweepIsACurveOfItsOwnAndOtherLearnedPointsShareOne() {
        assertEquals("threshold", Plots.seriesName(row("threshold", "threshold(tau=0.9)")));
        assertEquals("frontier", Plots.seriesName(row("frontier", "frontier(slope=48.0,tau=0.9)")));
        assertEquals("frontier fallback=1", Plots.seriesName(row("frontier", "frontier(fallback=1.0,slope=48.0,tau=0.9)")));
        assertEquals("learned", Plots.seriesName(row("learned", "learned(mode=greedy,policy=results/frontier/attempt-lag48-g/policy,temp=1.0)")));
        assertEquals("learned knob: attempt-knob2",
                Plots.seriesName(row("learned", "learned(knob=2.0,mode=greedy,policy=results/frontier/attempt-knob2/policy,temp=1.0)")));
        assertEquals("learned knob: exported",
                Plots.seriesName(row("learned", "learned(mode=greedy,policy=runs/exported,temp=1.0,knob=8.0)")));
    }

    /** The knob plot needs a knob curve (two knob settings or more) and the threshold sweep to read it against. */
    @Test
    void theKnobPlotNeedsTwoKnobPointsAndTheThresholdSweep() {
        EvalRow knob2 = row("learned", "learned(knob=2.0,mode=greedy,policy=runs/k/policy,temp=1.0)");
        EvalRow knob8 = row("learned", "learned(knob=8.0,mode=greedy,policy=runs/k/policy,temp=1.0)");
        EvalRow lone = row("learned", "learned(knob=6.0,mode=greedy,policy=runs/other/policy,temp=1.0)");
        EvalRow t5 = row("threshold", "threshold(tau=0.5)"), t9 = row("threshold", "threshold(tau=0.9)");
        EvalRow plain = row("learned", "learned(mode=greedy,policy=runs/p/policy,temp=1.0)");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, t5, t9)), "one knob point is no curve");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, knob8)), "no threshold sweep to compare with");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, knob8, t9)), "one threshold point is no sweep");
        assertEquals(List.of(knob2, knob8, t5, t9), Plots.knobComparison(List.of(knob2, knob8, lone, t5, t9, plain)),
                "the curve and the sweep; a knob policy seen at one point and other policies are left out");
    }
}
