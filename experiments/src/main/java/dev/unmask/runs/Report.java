package dev.unmask.runs;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.JsonLines;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.env.io.PathKinds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A run or sweep folder's report.md: accuracy against NFE per task and block length with the Pareto
 * front, learned policies against the heuristics, full diffusion against semi-AR, metrics against
 * block length, and the training curves and cost of a policy-training run; plots (PNG + SVG) in plots/.
 */
public final class Report {
    /** The report, in the run folder. */
    public static final String FILE = "report.md";
    /** The plots' sub-folder. */
    public static final String PLOTS = "plots";

    private Report() {
    }

    /** Writes {@link #FILE} and the plots into {@code runDir} (with eval.json and/or metrics.jsonl). */
    /** A run's opening sentences, written by the command that made it (the quickstart), placed first in its report. */
    public static final String SUMMARY = "summary.md";

    public static void write(Path runDir) throws IOException {
        Path evalJson = runDir.resolve("eval.json"), metrics = runDir.resolve("metrics.jsonl");
        PathKinds.requireFolder(runDir, "run folder", "a run or sweep folder");
        if (!Files.isRegularFile(evalJson) && !Files.isRegularFile(metrics)) {
            throw new UnmaskException(runDir + " has neither eval.json nor metrics.jsonl: not a run folder");
        }
        OutputDirs.requireWritable(runDir, "run folder");
        Path plots = runDir.resolve(PLOTS);
        StringBuilder md = new StringBuilder("# Report: ").append(runDir.getFileName()).append("\n\n");
        Path summary = runDir.resolve(SUMMARY);
        if (Files.isRegularFile(summary)) md.append(Files.readString(summary).strip()).append("\n\n");
        Path manifest = runDir.resolve("manifest.json");
        if (Files.isRegularFile(manifest)) {
            Map<?, ?> m = Json.read(manifest, Map.class);
            md.append("Made by `").append(m.get("command")).append("` (code ").append(m.get("code")).append(").\n\n");
        }
        if (Files.isRegularFile(runDir.resolve("failures.md"))) {
            md.append("Wrong answers by cause, per cell: [failures.md](failures.md).\n\n");
        }
        if (Files.isRegularFile(evalJson)) {
            List<EvalRow> rows = Json.MAPPER.readValue(evalJson.toFile(), new TypeReference<List<EvalRow>>() {
            });
            Map<String, List<EvalRow>> byConfig = rows.stream().collect(Collectors.groupingBy(
                    r -> r.task() + "|" + r.genLength() + "|" + r.blockLength(), TreeMap::new, Collectors.toList()));
            md.append("## Accuracy against NFE\n\nEach rule is a curve over its parameter, in its family's colour in every plot; `learned` points are trained policies, "
                    + "greedy (diamonds) and sampled (triangles) apart and not joined; a knob sweep is a curve with each point labelled by its knob; "
                    + "the dashed black line is the Pareto front (no other point is more accurate at no more NFE). 95% Wilson intervals in the tables.\n\n");
            for (var e : byConfig.entrySet()) {
                EvalRow any = e.getValue().get(0);
                String name = "acc-vs-nfe-" + any.task() + "-L" + any.genLength() + "-B" + any.blockLength();
                String title = any.task() + ", L=" + any.genLength() + ", " + (any.mode().equals("full") ? "full diffusion" : "semi-AR B=" + any.blockLength());
                Plots.accuracyVsNfe(plots, name, title, e.getValue());
                md.append("### ").append(title).append("\n\n![](plots/").append(name).append(".png)\n\n");
                List<EvalRow> knobAndThreshold = Plots.knobComparison(e.getValue());
                if (!knobAndThreshold.isEmpty()) {
                    Plots.accuracyVsNfe(plots, "knob-" + name, title + ": the knob's curve against the threshold sweep", knobAndThreshold);
                    md.append("The conditioned policy swept over its knob, against the threshold rule alone:\n\n![](plots/knob-").append(name).append(".png)\n\n");
                }
                List<EvalRow> sorted = new ArrayList<>(e.getValue());
                sorted.sort(Comparator.comparing(EvalRow::policy).thenComparingDouble(EvalRow::meanNfe));
                md.append(ResultTables.markdown(sorted)).append("\nPareto front: ")
                        .append(Plots.paretoFront(e.getValue()).stream().map(r -> String.format(Locale.ROOT, "%s (%.3f @ %.1f NFE)", r.policyParams(), r.accuracy(), r.meanNfe()))
                                .collect(Collectors.joining(", "))).append("\n\n");
            }
            List<HeadToHead.Verdict> verdicts = HeadToHead.compare(rows);
            if (!verdicts.isEmpty()) {
                md.append("## Learned policies against the heuristics\n\nFor each learned point: the most accurate heuristic setting that spends no more NFE "
                        + "(\"separated\" = the learned policy's 95% interval lies above that setting's), the cheapest heuristic setting that is at least as accurate, "
                        + "and the most accurate published rule that spends no more NFE (every heuristic but this project's `frontier`).\n\n")
                        .append(HeadToHead.markdown(verdicts)).append("\n");
            }
            List<BlockLengthGap.Gap> gaps = BlockLengthGap.gaps(rows, 32);
            if (gaps.stream().anyMatch(g -> g.bestFullAtNoMoreNfe().isPresent())) {
                long atTen = gaps.stream().filter(g -> g.gap() >= 0.10).count();
                md.append("## Full diffusion against semi-AR at no more NFE\n\nEach semi-AR point (B <= 32, confidence heuristics: every rule but random) "
                        + "against the most accurate full-diffusion confidence-heuristic point that spends no more NFE. ")
                        .append(atTen).append(" of ").append(gaps.size()).append(" semi-AR points sit 10 points or more above it:\n\n")
                        .append(BlockLengthGap.markdown(gaps, 0.10)).append("\n");
                for (String t : rows.stream().map(EvalRow::task).distinct().sorted().toList()) {
                    BlockLengthGap.plotFronts(plots, "fronts-by-block-" + t, t, rows);
                    md.append("![](plots/fronts-by-block-").append(t).append(".png)\n\n");
                }
            }
            Map<String, List<EvalRow>> byTask = rows.stream().collect(Collectors.groupingBy(r -> r.task() + "|" + r.genLength(), TreeMap::new, Collectors.toList()));
            for (var e : byTask.entrySet()) {
                if (e.getValue().stream().map(EvalRow::blockLength).distinct().count() < 2) continue;
                String t = e.getValue().get(0).task();
                md.append("## ").append(t).append(": against block length\n\n");
                Plots.metricVsBlockLength(plots, "acc-vs-block-" + t, t + ": accuracy against block length", "accuracy", e.getValue(), EvalRow::accuracy);
                Plots.metricVsBlockLength(plots, "nfe-vs-block-" + t, t + ": mean NFE against block length", "mean NFE", e.getValue(), EvalRow::meanNfe);
                md.append("![](plots/acc-vs-block-").append(t).append(".png)\n\n![](plots/nfe-vs-block-").append(t).append(".png)\n\n");
            }
        }
        if (Files.isRegularFile(metrics)) {
            List<Map<String, Object>> lines = JsonLines.readObjects(metrics);
            Plots.trainingCurves(plots, "training", lines, List.of("meanReward", "accuracy", "meanNfe", "entropy", "clipFraction", "approxKl", "loss", "gradNorm"));
            md.append("## Training curves\n\n![](plots/training.png)\n\n").append(lines.size()).append(" lines in metrics.jsonl.\n");
            if (!lines.isEmpty() && lines.get(0).containsKey("updateSeconds")) {
                md.append("\n## Cost\n\n").append(TrainingCost.markdown(List.of(TrainingCost.of(runDir, lines))));
            }
        }
        AtomicFiles.writeString(runDir.resolve(FILE), md.toString());
    }
}
