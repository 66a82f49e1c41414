package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.AtomicFiles;
import org.knowm.xchart.*;
import org.knowm.xchart.style.lines.SeriesLines;
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
     * Accuracy against mean NFE for one (task, mode, block length): each rule a curve over its
     * parameter, learned policies as markers (greedy and sampled apart, never joined), a knob sweep a
     * curve of its own per mode with each point labelled by its knob, and the Pareto front (no other
     * point has higher accuracy at no more NFE) drawn first, thin and dashed, so it hides no marker.
     */
    public static void accuracyVsNfe(Path dir, String name, String title, List<EvalRow> rows) {
        save(accuracyVsNfeChart(title, rows), dir, name);
    }

    /** The chart {@link #accuracyVsNfe} writes. */
    static XYChart accuracyVsNfeChart(String title, List<EvalRow> rows) {
        return accuracyVsNfeChart(title, rows, rows);
    }

    /** As above, with the axes and the Pareto front taken over {@code frontOver} (the rows and any drawn after them). */
    private static XYChart accuracyVsNfeChart(String title, List<EvalRow> rows, List<EvalRow> frontOver) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("mean NFE (dLLM forward passes)")
                .yAxisTitle("accuracy").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setAnnotationTextFontColor(java.awt.Color.DARK_GRAY);
        chart.getStyler().setAnnotationTextFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        padAxes(chart, frontOver);
        List<EvalRow> front = paretoFront(frontOver);
        if (!front.isEmpty()) { // first, so every marker is drawn over it
            XYSeries s = chart.addSeries("Pareto front", front.stream().mapToDouble(EvalRow::meanNfe).toArray(),
                    front.stream().mapToDouble(EvalRow::accuracy).toArray());
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(java.awt.Color.BLACK);
            s.setLineStyle(new java.awt.BasicStroke(1.2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_ROUND, 10f, new float[]{6f, 4f}, 0f));
        }
        Map<String, List<EvalRow>> byCurve = rows.stream().collect(Collectors.groupingBy(Plots::curveName, TreeMap::new, Collectors.toList()));
        int knobCurves = 0;
        for (var e : byCurve.entrySet()) {
            List<EvalRow> pts = new ArrayList<>(e.getValue());
            pts.sort(Comparator.comparingDouble(EvalRow::meanNfe));
            EvalRow first = pts.get(0);
            boolean learned = first.policy().equals("learned"), knob = seriesName(first).startsWith("learned knob"), sampled = isSampled(first);
            XYSeries s = chart.addSeries(legendLabel(e.getKey()), pts.stream().mapToDouble(EvalRow::meanNfe).toArray(),
                    pts.stream().mapToDouble(EvalRow::accuracy).toArray());
            // several knob curves (policies, or a policy and its start) in one family colour, each paler than the one before
            java.awt.Color c = knob ? shade(familyColor(first.policy()), knobCurves++) : familyColor(first.policy());
            s.setLineColor(c);
            s.setMarkerColor(c);
            s.setMarker(learned ? (sampled ? SeriesMarkers.TRIANGLE_UP : SeriesMarkers.DIAMOND) : familyMarker(first.policy()));
            if (learned && !knob) { // separate policies' points: markers, no curve
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                continue;
            }
            s.setLineWidth(knob ? 2.5f : 1.5f);
            s.setLineStyle(sampled ? SeriesLines.DASH_DASH : SeriesLines.SOLID);
        }
        for (PointLabel l : pointLabels(rows)) chart.addAnnotation(new AnnotationText(l.text(), l.x(), l.y(), false));
        return chart;
    }

    /**
     * Full diffusion beside semi-AR decoding on one chart: every full-diffusion series as
     * {@link #accuracyVsNfe} draws it, and each rule swept in blocks of {@code blockLength} as a thin
     * dotted line in its family's colour with hollow markers ("threshold, B=32"); learned policies
     * run in blocks as hollow diamonds. The Pareto front is over both sets of points. The rows must
     * share one task and buffer length (one figure, one question).
     */
    public static void accuracyVsNfeBesideBlocks(Path dir, String name, String title, List<EvalRow> full, List<EvalRow> blocks) {
        save(accuracyVsNfeBesideBlocksChart(title, full, blocks), dir, name);
    }

    static XYChart accuracyVsNfeBesideBlocksChart(String title, List<EvalRow> full, List<EvalRow> blocks) {
        List<EvalRow> all = new ArrayList<>(full);
        all.addAll(blocks);
        if (all.stream().map(r -> r.task() + "|" + r.genLength()).distinct().count() != 1) {
            throw new IllegalArgumentException("one figure compares one task at one buffer length, got " + all.stream().map(r -> r.task() + " L=" + r.genLength()).distinct().toList());
        }
        if (full.stream().anyMatch(r -> r.blockLength() != r.genLength())) throw new IllegalArgumentException("the full-diffusion rows include semi-AR rows");
        if (blocks.stream().map(EvalRow::blockLength).distinct().count() != 1 || blocks.stream().anyMatch(r -> r.blockLength() == r.genLength())) {
            throw new IllegalArgumentException("the semi-AR rows must share one block length shorter than the buffer");
        }
        XYChart chart = accuracyVsNfeChart(title, full, all);
        int b = blocks.get(0).blockLength();
        Map<String, List<EvalRow>> byCurve = blocks.stream().collect(Collectors.groupingBy(Plots::curveName, TreeMap::new, Collectors.toList()));
        for (var e : byCurve.entrySet()) {
            List<EvalRow> pts = new ArrayList<>(e.getValue());
            pts.sort(Comparator.comparingDouble(EvalRow::meanNfe));
            EvalRow first = pts.get(0);
            XYSeries s = chart.addSeries(legendLabel(e.getKey()) + ", B=" + b, pts.stream().mapToDouble(EvalRow::meanNfe).toArray(),
                    pts.stream().mapToDouble(EvalRow::accuracy).toArray());
            java.awt.Color c = familyColor(first.policy());
            s.setLineColor(c);
            s.setMarkerColor(c);
            if (first.policy().equals("learned")) {
                s.setMarker(SeriesMarkers.DIAMOND);
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                s.setMarkerColor(new java.awt.Color(c.getRed(), c.getGreen(), c.getBlue(), 110));
                continue;
            }
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(new java.awt.Color(c.getRed(), c.getGreen(), c.getBlue(), 110));
            s.setLineWidth(1.0f);
            s.setLineStyle(SeriesLines.DOT_DOT);
        }
        return chart;
    }

    /** A text drawn at (x, y) in data coordinates. */
    record PointLabel(String text, double x, double y) {
    }

    /** The labels {@link #accuracyVsNfe} draws: each knob-sweep point's knob ("knob=2.0"), just above the point. */
    static List<PointLabel> pointLabels(List<EvalRow> rows) {
        double offset = labelOffset(rows);
        List<PointLabel> out = new ArrayList<>();
        for (EvalRow r : rows) {
            if (!seriesName(r).startsWith("learned knob")) continue;
            knobValue(r).ifPresent(k -> out.add(new PointLabel("knob=" + k, r.meanNfe(), r.accuracy() + offset)));
        }
        return out;
    }

    /** The families' colours, the same in every plot whatever rows it holds. */
    private static final Map<String, java.awt.Color> FAMILY_COLORS = Map.ofEntries(
            Map.entry("topk", new java.awt.Color(0xD62728)),
            Map.entry("threshold", new java.awt.Color(0x2CA02C)),
            Map.entry("factor", new java.awt.Color(0xFF7F0E)),
            Map.entry("eb", new java.awt.Color(0x1F77B4)),
            Map.entry("klass", new java.awt.Color(0x8C564B)),
            Map.entry("margin", new java.awt.Color(0x17BECF)),
            Map.entry("entropy", new java.awt.Color(0xBCBD22)),
            Map.entry("random", new java.awt.Color(0x7F7F7F)),
            Map.entry("frontier", new java.awt.Color(0xE377C2)),
            Map.entry("learned", new java.awt.Color(0x7B1FA2)));

    /** A rule family's colour (a fixed map; a family not in it gets a grey derived from its name). */
    public static java.awt.Color familyColor(String family) {
        java.awt.Color c = FAMILY_COLORS.get(family);
        if (c != null) return c;
        int g = 60 + Math.floorMod(family.hashCode(), 100);
        return new java.awt.Color(g, g, g);
    }

    private static org.knowm.xchart.style.markers.Marker familyMarker(String family) {
        return switch (family) {
            case "threshold", "margin" -> SeriesMarkers.TRIANGLE_DOWN;
            case "factor", "frontier" -> SeriesMarkers.SQUARE;
            case "topk", "random" -> SeriesMarkers.TRIANGLE_UP;
            default -> SeriesMarkers.CIRCLE;
        };
    }

    /** The longest legend label, in characters: longer ones are cut in the middle ("learned knob: attempt-…-long-name"). */
    static final int LEGEND_CHARS = 32;

    /** {@code label}, cut in the middle to {@link #LEGEND_CHARS} characters when longer, so the legend fits the image. */
    public static String legendLabel(String label) {
        if (label.length() <= LEGEND_CHARS) return label;
        int head = (LEGEND_CHARS - 1) / 2, tail = LEGEND_CHARS - 1 - head;
        return label.substring(0, head) + "\u2026" + label.substring(label.length() - tail);
    }

    /**
     * The curve a row is drawn on: {@link #seriesName}, with learned policies' greedy and sampled points
     * apart ("learned greedy", "learned sampled", "learned knob: FOLDER (sampled)"), since a line joins
     * only the points of one sweep of one rule or policy mode.
     */
    public static String curveName(EvalRow r) {
        String s = seriesName(r);
        if (!r.policy().equals("learned")) return s;
        if (s.equals("learned")) return isSampled(r) ? "learned sampled" : "learned greedy";
        return isSampled(r) ? s + " (sampled)" : s;
    }

    private static boolean isSampled(EvalRow r) {
        return r.policyParams().matches(".*[(,]mode=sample[,)].*");
    }

    /** The knob value in a learned row's parameters, as written there ("2.0"), or empty. */
    static Optional<String> knobValue(EvalRow r) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[(,]knob=([^,)]*)").matcher(r.policyParams());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static double labelOffset(List<EvalRow> rows) {
        DoubleSummaryStatistics acc = rows.stream().mapToDouble(EvalRow::accuracy).summaryStatistics();
        return Math.max(acc.getMax() - acc.getMin(), 0.02) * 0.035;
    }

    /**
     * Axis ranges around the points: accuracy padded by a tenth of its span (not below 0), NFE padded
     * likewise, or on a log scale when its largest value is more than 10 times its smallest.
     */
    static void padAxes(XYChart chart, List<EvalRow> rows) {
        if (rows.isEmpty()) return;
        DoubleSummaryStatistics nfe = rows.stream().mapToDouble(EvalRow::meanNfe).summaryStatistics();
        DoubleSummaryStatistics acc = rows.stream().mapToDouble(EvalRow::accuracy).summaryStatistics();
        var st = chart.getStyler();
        if (nfe.getMin() > 0 && nfe.getMax() > 10 * nfe.getMin()) {
            st.setXAxisLogarithmic(true);
            st.setXAxisMin(nfe.getMin() / 1.25);
            st.setXAxisMax(nfe.getMax() * 1.25);
        } else {
            double pad = Math.max(nfe.getMax() - nfe.getMin(), Math.max(0.05 * nfe.getMax(), 0.1)) * 0.1;
            st.setXAxisMin(Math.max(0, nfe.getMin() - pad));
            st.setXAxisMax(nfe.getMax() + pad);
        }
        double pad = Math.max(acc.getMax() - acc.getMin(), 0.02) * 0.1;
        st.setYAxisMin(Math.max(0, acc.getMin() - pad));
        st.setYAxisMax(acc.getMax() + pad);
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
        XYChart chart = metricVsBlockLengthChart(title, yTitle, rows, metric);
        if (!chart.getSeriesCollection().isEmpty()) save(chart, dir, name);
    }

    /**
     * One line per rule setting over the block lengths, in its family's colour (a lighter shade, and
     * every other one dashed, for each further setting of the same family), the family's marker, and a
     * logarithmic block-length axis when the lengths span a factor of 8 or more (8 to 128 would
     * otherwise crowd the small blocks into a corner).
     */
    static XYChart metricVsBlockLengthChart(String title, String yTitle, List<EvalRow> rows, java.util.function.ToDoubleFunction<EvalRow> metric) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("block length B (B = L: full diffusion)")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        IntSummaryStatistics blocks = rows.stream().mapToInt(EvalRow::blockLength).summaryStatistics();
        if (blocks.getCount() > 0 && blocks.getMin() > 0 && blocks.getMax() >= 8 * blocks.getMin()) chart.getStyler().setXAxisLogarithmic(true);
        Map<String, Integer> settingsOfFamily = new HashMap<>();
        Map<String, List<EvalRow>> bySetting = rows.stream().collect(Collectors.groupingBy(EvalRow::policyParams, TreeMap::new, Collectors.toList()));
        for (var e : bySetting.entrySet()) {
            List<EvalRow> pts = new ArrayList<>(e.getValue());
            if (pts.size() < 2) continue;
            pts.sort(Comparator.comparingInt(EvalRow::blockLength));
            String family = pts.get(0).policy();
            int nth = settingsOfFamily.merge(family, 1, Integer::sum) - 1;
            java.awt.Color c = shade(familyColor(family), nth);
            // the shortened label unless two settings shorten to the same one (two learned policies' paths)
            String label = legendLabel(e.getKey());
            String shortened = label;
            if (chart.getSeriesCollection().stream().anyMatch(x -> x.getName().equals(shortened))) label = e.getKey();
            XYSeries s = chart.addSeries(label, pts.stream().mapToDouble(EvalRow::blockLength).toArray(), pts.stream().mapToDouble(metric).toArray());
            s.setLineColor(c);
            s.setMarkerColor(c);
            s.setMarker(familyMarker(family));
            s.setLineStyle(nth % 2 == 0 ? SeriesLines.SOLID : SeriesLines.DASH_DASH);
        }
        return chart;
    }

    /** The family colour for its first setting, mixed a fifth further towards white for each next one (at most three fifths). */
    static java.awt.Color shade(java.awt.Color base, int nth) {
        double t = Math.min(0.6, 0.2 * nth);
        return new java.awt.Color((int) Math.round(base.getRed() + (255 - base.getRed()) * t), (int) Math.round(base.getGreen() + (255 - base.getGreen()) * t),
                (int) Math.round(base.getBlue() + (255 - base.getBlue()) * t));
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
