package dev.unmask.cli;

import dev.unmask.runs.Findings;
import dev.unmask.runs.Paths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "findings", mixinStandardHelpOptions = true,
        description = "Render results/FINDINGS.md and the README's findings table from results/findings.yaml and the committed eval.csv rows it names; "
                + "--check renders in memory and exits 1 when either file differs (2 on a bad findings.yaml entry).")
final class FindingsCommand implements Callable<Integer> {
    @Option(names = "--check", description = "Write nothing; exit 1 naming the first difference when README.md's findings block or results/FINDINGS.md differs from the rendering.")
    boolean check;
    @Option(names = "--root", paramLabel = "DIR", description = "The repository whose README.md, results/findings.yaml, results/FINDINGS.md and run folders are used (default: this checkout).")
    Path root;

    @Override
    public Integer call() throws IOException {
        Path dir = root != null ? root : Paths.home();
        if (check) {
            String diff = Findings.check(dir);
            if (diff != null) {
                System.out.println("findings: " + diff);
                return 1;
            }
            System.out.println("findings: " + Findings.README_FILE + " and " + Findings.FINDINGS_FILE + " match " + Findings.YAML_FILE);
            return 0;
        }
        int n = Findings.write(dir);
        System.out.println("findings: rendered " + n + " findings into " + Findings.FINDINGS_FILE + " and " + Findings.README_FILE);
        return 0;
    }
}
