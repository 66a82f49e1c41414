package dev.unmask.cli;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.unmask.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code unmask report} draws the knob plot only when there is a knob curve and the threshold sweep to read it against. */
class ReportKnobPlotTest {
    private static EvalRow row(String policy, String params, double acc, double nfe) {
        return new EvalRow("sort", "semi-AR", 8, 32, policy, params, 100, acc, acc - 0.1, acc + 0.1, nfe, nfe, nfe, nfe, 32 / nfe, 0, 0, 0, "d", 1, "validation", null);
    }

    private static final String KNOB = "learned(knob=%s,mode=greedy,policy=runs/k/policy,temp=1.0)";

    @Test
    void aTrainingRunsSingleKnobPointGetsNoKnobPlot(@TempDir Path dir) throws Exception {
        // what train writes: the knob policy at the middle of its range, and nothing else
        Json.writeAtomically(dir.resolve("eval.json"), List.of(row("learned", KNOB.formatted("6.0"), 0.8, 10),
                row("threshold", "threshold(tau=0.5)", 0.6, 6), row("threshold", "threshold(tau=0.9)", 0.9, 14)));
        CliTest.Run r = run("report", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.readString(dir.resolve("report.md")).contains("knob-acc-vs-nfe"), Files.readString(dir.resolve("report.md")));
        assertFalse(Files.exists(dir.resolve("plots/knob-acc-vs-nfe-sort-L32-B8.png")));

        Path swept = dir.resolve("swept");
        Files.createDirectories(swept);
        Json.writeAtomically(swept.resolve("eval.json"), List.of(row("learned", KNOB.formatted("0.0"), 0.9, 14), row("learned", KNOB.formatted("12.0"), 0.7, 6),
                row("threshold", "threshold(tau=0.5)", 0.6, 6), row("threshold", "threshold(tau=0.9)", 0.9, 14)));
        assertEquals(0, run("report", swept.toString()).code());
        assertTrue(Files.readString(swept.resolve("report.md")).contains("![](plots/knob-acc-vs-nfe-sort-L32-B8.png)"));
        assertTrue(Files.exists(swept.resolve("plots/knob-acc-vs-nfe-sort-L32-B8.png")));
    }
}
