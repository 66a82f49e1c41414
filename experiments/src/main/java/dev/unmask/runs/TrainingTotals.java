package dev.unmask.runs;

import dev.unmask.env.io.JsonLines;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Whole-run totals from a dLLM training's metrics.jsonl: mean loss over the last steps and the summed step time. */
public record TrainingTotals(double finalLoss, double trainSeconds, int steps) {
    public static TrainingTotals of(Path metrics, int lastSteps) {
        if (!Files.isRegularFile(metrics)) return new TrainingTotals(Double.NaN, 0, 0);
        List<double[]> rows = new ArrayList<>();
        for (var n : JsonLines.readTrees(metrics)) rows.add(new double[]{n.path("loss").asDouble(), n.path("stepMillis").asDouble()});
        double millis = 0, loss = 0;
        for (double[] r : rows) millis += r[1];
        int from = Math.max(0, rows.size() - lastSteps);
        for (int i = from; i < rows.size(); i++) loss += rows.get(i)[0];
        return new TrainingTotals(rows.isEmpty() ? Double.NaN : loss / (rows.size() - from), Math.round(millis) / 1000.0, rows.size());
    }
}
