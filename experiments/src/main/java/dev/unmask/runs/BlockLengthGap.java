package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.nio.file.Path;
import java.util.*;
import java.util.stream.Collectors;

/**
 * The paper's block-length finding on a sweep: how far full diffusion falls below semi-AR decoding
 * at the same cost. Only the confidence heuristics count (every rule but {@code random} and learned
 * policies). For each semi-AR point P, the comparison is the most accurate full-diffusion point
 * that spends no more NFE than P (full diffusion given at most P's budget); the gap is P's accuracy
 * minus that point's, "apart" when P's 95% interval lies above the other's.
 */
public final class BlockLengthGap {
    private BlockLengthGap() {
    }

    public record Gap(EvalRow semiAr, Optional<EvalRow> bestFullAtNoMoreNfe) {
        public double gap() {
            return bestFullAtNoMoreNfe.map(f -> semiAr.accuracy() - f.accuracy()).orElse(Double.NaN);
        }

        public boolean apart() {
            return bestFullAtNoMoreNfe.map(f -> semiAr.accCiLow() > f.accCiHigh()).orElse(false);
        }
    }

    static boolean isConfidenceHeuristic(EvalRow r) {
        return !r.policy().equals("random") && !HeadToHead.isLearned(r);
    }

    /** One gap per semi-AR confidence-heuristic point with B <= maxBlock, by task, block length and NFE. */
    public static List<Gap> gaps(List<EvalRow> rows, int maxBlock) {
        List<Gap> out = new ArrayList<>();
        List<EvalRow> semi = rows.stream().filter(r -> isConfidenceHeuristic(r) && r.mode().equals("semi-ar") && r.blockLength() <= maxBlock)
                .sorted(Comparator.comparing(EvalRow::task).thenComparingInt(EvalRow::blockLength).thenComparingDouble(EvalRow::meanNfe)).toList();
        for (EvalRow p : semi) {
            Optional<EvalRow> full = rows.stream().filter(r -> isConfidenceHeuristic(r) && r.mode().equals("full") && r.task().equals(p.task())
                            && r.genLength() == p.genLength() && r.meanNfe() <= p.meanNfe())
                    .max(Comparator.comparingDouble(EvalRow::accuracy));
            out.add(new Gap(p, full));
        }
        return out;
    }

    /** The gaps of at least minGap, as a Markdown table. */
    public static String markdown(List<Gap> gaps, double minGap) {
        StringBuilder sb = new StringBuilder("| task | semi-AR B | policy | accuracy [95% CI] | NFE | best full diffusion at <= NFE | its accuracy [95% CI] | its NFE | gap (points) | apart |\n"
                + "|---|---|---|---|---|---|---|---|---|---|\n");
        for (Gap g : gaps) {
            if (!(g.gap() >= minGap)) continue;
            EvalRow p = g.semiAr(), f = g.bestFullAtNoMoreNfe().orElseThrow();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %.3f [%.3f, %.3f] | %.1f | %s | %.3f [%.3f, %.3f] | %.1f | %.1f | %s |%n",
                    p.task(), p.blockLength(), p.policyParams(), p.accuracy(), p.accCiLow(), p.accCiHigh(), p.meanNfe(), f.policyParams(),
                    f.accuracy(), f.accCiLow(), f.accCiHigh(), f.meanNfe(), 100 * g.gap(), g.apart() ? "yes" : "no"));
        }
        return sb.toString();
    }

    /** One chart per task: each block length's Pareto front of the confidence heuristics, accuracy against NFE. */
    public static void plotFronts(Path dir, String name, String task, List<EvalRow> rows) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title(task + ": confidence heuristics' Pareto front at each block length")
                .xAxisTitle("mean NFE (dLLM forward passes)").yAxisTitle("accuracy").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        Map<Integer, List<EvalRow>> byBlock = rows.stream().filter(r -> r.task().equals(task) && isConfidenceHeuristic(r))
                .collect(Collectors.groupingBy(EvalRow::blockLength, TreeMap::new, Collectors.toList()));
        for (var e : byBlock.entrySet()) {
            List<EvalRow> front = Plots.paretoFront(e.getValue());
            String label = front.get(0).mode().equals("full") ? "full diffusion (B=" + e.getKey() + ")" : "semi-AR B=" + e.getKey();
            chart.addSeries(label, front.stream().mapToDouble(EvalRow::meanNfe).toArray(), front.stream().mapToDouble(EvalRow::accuracy).toArray());
        }
        Plots.save(chart, dir, name);
    }
}
