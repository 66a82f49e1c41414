package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.AtomicFiles;
import org.knowm.xchart.*;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.*;
import java.util.stream.Collectors;

/** The report's charts, written as PNG and SVG (atomically). */
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {
    }

    /**
     * Accuracy against mean NFE for one (task, mode, block length): each policy family a curve over
     * its parameter, and the Pareto front (no other point has higher accuracy at no more NFE) drawn
     * on top.
     */
    public static void accuracyVsNfe(Path dir, String name, String title, List<EvalRow> rows) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("mean NFE (dLLM forward passes)")
                .yAxisTitle("accuracy").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        Map<String, List<EvalRow>> byPolicy = rows.stream().collect(Collectors.groupingBy(Plots::seriesName, TreeMap::new, Collectors.toList()));
        for (var e : byPolicy.entrySet()) {
            List<EvalRow> pts = new ArrayList<>(e.getValue());
            pts.sort(Comparator.comparingDouble(EvalRow::meanNfe));
            XYSeries s = chart.addSeries(e.getKey(), pts.stream().mapToDouble(EvalRow::meanNfe).toArray(),
                    pts.stream().mapToDouble(EvalRow::accuracy).toArray());
            if (e.getKey().startsWith("learned")) s.setMarker(SeriesMarkers.DIAMOND);
            if (e.getKey().startsWith("learned knob")) { // the one curve a reader looks for: drawn thick and dark
                s.setLineWidth(3f);
                s.setLineColor(new java.awt.Color(0x7B1FA2));
                s.setMarkerColor(new java.awt.Color(0x7B1FA2));
            }
        }
        List<EvalRow> front = paretoFront(rows);
        if (!front.isEmpty()) {
            XYSeries s = chart.addSeries("Pareto front", front.stream().mapToDouble(EvalRow::meanNfe).toArray(),
                    front.stream().mapToDouble(EvalRow::accuracy).toArray());
            s.setMarker(SeriesMarkers.NONE);
            s.setLineWidth(3f);
            s.setLineColor(java.awt.Color.BLACK);
        }
        save(chart, dir, name);
    }

    /**
     * The curve a row belongs to: the rule's name ("frontier fallback=1" apart from the default frontier
     * rule), and "learned" for trained policies, except that a
     * conditioned policy swept over its knob is a curve of its own ("learned knob: FOLDER", FOLDER being
     * the run that holds the policy), so its trade-off is not joined up with other policies' points.
     */
    public static String seriesName(EvalRow r) {
        if (r.policy().equals("frontier") && r.policyParams().matches(".*[(,]fallback=1(\\.0)?[,)].*")) return "frontier fallback=1";
        if (!r.policy().equals("learned")) return r.policy();
        java.util.regex.Matcher knob = java.util.regex.Pattern.compile("[(,]knob=").matcher(r.policyParams());
        java.util.regex.Matcher path = java.util.regex.Pattern.compile("[(,]policy=([^,)]*)").matcher(r.policyParams());
        if (!knob.find() || !path.find()) return "learned";
        java.nio.file.Path p = java.nio.file.Path.of(path.group(1));
        java.nio.file.Path run = p.getFileName() != null && p.getFileName().toString().equals("policy") && p.getParent() != null ? p.getParent() : p;
        return "learned knob: " + run.getFileName();
    }

    /**
     * The rows of the knob plot: every knob curve ({@link #seriesName} "learned knob: ...") with at
     * least two knob settings, and the threshold rule's sweep (at least two settings) to read them
     * against; empty, so the plot is left out, when either is missing: one knob point is no curve,
     * and without the threshold sweep there is nothing to compare it with.
     */
    public static List<EvalRow> knobComparison(List<EvalRow> rows) {
        Map<String, List<EvalRow>> knobCurves = rows.stream().filter(r -> seriesName(r).startsWith("learned knob"))
                .collect(Collectors.groupingBy(Plots::seriesName, TreeMap::new, Collectors.toList()));
        List<EvalRow> out = new ArrayList<>();
        knobCurves.values().stream().filter(c -> c.stream().map(EvalRow::policyParams).distinct().count() >= 2).forEach(out::addAll);
        List<EvalRow> threshold = rows.stream().filter(r -> r.policy().equals("threshold")).toList();
        if (out.isEmpty() || threshold.stream().map(EvalRow::policyParams).distinct().count() < 2) return List.of();
        out.addAll(threshold);
        return out;
    }

    /** Points that no other point beats (higher accuracy at no more NFE), by increasing NFE. */
    public static List<EvalRow> paretoFront(List<EvalRow> rows) {
        List<EvalRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingDouble(EvalRow::meanNfe).thenComparing(Comparator.comparingDouble(EvalRow::accuracy).reversed()));
        List<EvalRow> front = new ArrayList<>();
        double best = -1;
        for (EvalRow r : sorted) {
            if (r.accuracy() > best) {
                front.add(r);
                best = r.accuracy();
            }
        }
        return front;
    }

    /** One metric against block length (full diffusion drawn at B = L), one curve per policy setting. */
    public static void metricVsBlockLength(Path dir, String name, String title, String yTitle, List<EvalRow> rows,
                                           java.util.function.ToDoubleFunction<EvalRow> metric) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("block length B (B = L: full diffusion)")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        int series = 0;
        Map<String, List<EvalRow>> bySetting = rows.stream().collect(Collectors.groupingBy(EvalRow::policyParams, TreeMap::new, Collectors.toList()));
        for (var e : bySetting.entrySet()) {
            List<EvalRow> pts = new ArrayList<>(e.getValue());
            if (pts.size() < 2) continue;
            pts.sort(Comparator.comparingInt(EvalRow::blockLength));
            chart.addSeries(e.getKey(), pts.stream().mapToDouble(EvalRow::blockLength).toArray(), pts.stream().mapToDouble(metric).toArray());
            series++;
        }
        if (series > 0) save(chart, dir, name);
    }

    /** Training curves, one small chart per metric. */
    public static void trainingCurves(Path dir, String name, List<Map<String, Object>> metrics, List<String> keys) {
        List<XYChart> charts = new ArrayList<>();
        List<String> drawn = new ArrayList<>();
        double[] x = metrics.stream().mapToDouble(m -> ((Number) m.getOrDefault("iteration", m.getOrDefault("step", 0))).doubleValue()).toArray();
        for (String k : keys) {
            if (metrics.isEmpty() || !metrics.get(0).containsKey(k)) continue;
            XYChart c = new XYChartBuilder().width(450).height(300).title(k).xAxisTitle(metrics.get(0).containsKey("iteration") ? "iteration" : "step").build();
            c.getStyler().setLegendVisible(false);
            c.addSeries(k, x, metrics.stream().mapToDouble(m -> ((Number) m.get(k)).doubleValue()).toArray()).setMarker(SeriesMarkers.NONE);
            charts.add(c);
            drawn.add(k);
        }
        if (charts.isEmpty()) return;
        try {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            BitmapEncoder.saveBitmap(charts, (charts.size() + 1) / 2, 2, png, BitmapEncoder.BitmapFormat.PNG);
            AtomicFiles.write(dir.resolve(name + ".png"), png.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        for (int i = 0; i < charts.size(); i++) save(charts.get(i), dir, name + "-" + drawn.get(i).replaceAll("[^A-Za-z0-9]", "_"), false);
    }

    static void save(XYChart chart, Path dir, String name) {
        save(chart, dir, name, true);
    }

    private static void save(XYChart chart, Path dir, String name, boolean png) {
        try {
            if (png) AtomicFiles.write(dir.resolve(name + ".png"), BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
            ByteArrayOutputStream svg = new ByteArrayOutputStream();
            VectorGraphicsEncoder.saveVectorGraphic(chart, svg, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            AtomicFiles.write(dir.resolve(name + ".svg"), svg.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException("cannot render " + name, e);
        }
    }
}
