package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.runs.RunFolderCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Two eval or sweep folders row by row: every row of A against B's row with the same task,
 * buffer, block length, policy, seed, n and split, in accuracy, mean NFE, n and fallback steps
 * (wall time is not compared). Exit 0 only when every row is identical and both hold the same rows.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Compare two eval/sweep folders row by row (accuracy, mean NFE, n, fallback steps; not wall time); exit 1 if any row differs or is missing.")
final class CompareCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "A", description = "A run folder with eval.json and eval.csv.")
    Path a;
    @Parameters(index = "1", paramLabel = "B", description = "The folder to compare it with.")
    Path b;
    @Option(names = "--across-runtimes", description = "Compare each row of B with A's row of the same policy once runtime=... is left out of both labels "
            + "(a learned policy run with runtime=java against the SameDiff graph's rows); A may hold more rows.")
    boolean acrossRuntimes;

    @Override
    public Integer call() {
        for (Path d : new Path[]{a, b}) {
            if (!Files.isRegularFile(d.resolve("eval.json"))) throw new UnmaskException(d + " has no eval.json: not an eval or sweep folder");
        }
        String la = label(a), lb = label(b);
        if (la.equals(lb)) {
            la = "A";
            lb = "B";
        }
        // every row of A must be in B with the same numbers, and B must hold as many rows (across runtimes: every row of B in A)
        int[] ab = acrossRuntimes ? RunFolderCheck.compareAcrossRuntimes(a, b, la, lb) : RunFolderCheck.compareTables(a, b, "eval", false, la, lb);
        int different = ab[1];
        System.out.printf("compare: %d identical, %d different (%s against %s)%n", ab[0], different, a, b);
        return different == 0 ? 0 : 1;
    }

    private static String label(Path p) {
        Path name = p.toAbsolutePath().normalize().getFileName();
        return name == null ? p.toString() : name.toString();
    }
}
