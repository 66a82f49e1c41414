package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {
    private static void evalJson(Path dir) throws Exception {
        List<EvalRow> rows = List.of(
                new EvalRow("sudoku", "full", 32, 32, "threshold", "threshold(tau=0.9)", 100, 0.9, 0.8, 0.95, 1.5, 1, 1, 2, 20, 0, 0, 0, "d", 1, "test", null),
                new EvalRow("sudoku", "full", 32, 32, "eb", "eb(gamma=1.0)", 100, 0.8, 0.7, 0.9, 1.2, 1, 1, 2, 26, 0, 0, 0, "d", 1, "test", null));
        Json.MAPPER.writeValue(dir.resolve("eval.json").toFile(), rows);
    }

    @Test
    void theReportLinksFailuresMdWhenTheFolderHasOne(@TempDir Path dir) throws Exception {
        evalJson(dir);
        Files.writeString(dir.resolve("failures.md"), "# Failures\n");
        Report.write(dir);
        String md = Files.readString(dir.resolve(Report.FILE));
        assertTrue(md.contains("](failures.md)"), md);
        assertTrue(Files.isRegularFile(dir.resolve("plots/acc-vs-nfe-sudoku-L32-B32.svg")));
    }

    @Test
    void noLinkWithoutFailuresMd(@TempDir Path dir) throws Exception {
        evalJson(dir);
        Report.write(dir);
        assertFalse(Files.readString(dir.resolve(Report.FILE)).contains("failures.md"));
    }
}
