package dev.unmask.cli;

import dev.unmask.runs.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Turn a run or sweep folder into report.md with tables and plots (PNG + SVG).")
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Run folder (with eval.json and/or metrics.jsonl).")
    Path runDir;

    @Override
    public Integer call() throws IOException {
        Report.write(runDir);
        System.out.println("wrote " + runDir.resolve(Report.FILE) + " and " + runDir.resolve(Report.PLOTS));
        return 0;
    }
}
