package dev.unmask.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * Re-runs a run from its manifest into a scratch folder and compares the numbers with the recorded
 * ones: identical, different but inside the recorded 95% interval (floating point can differ when
 * thread counts differ), or different. Exit 0 when nothing is outside the intervals.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Re-run a run folder's command from its manifest and compare the numbers with the recorded ones.")
final class ReproduceCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Run folder with manifest.json and eval.json.")
    Path runDir;
    @Option(names = "--scratch", description = "Where the re-run writes (default: a new temp folder).")
    Path scratch;

    @Override
    public Integer call() throws IOException {
        Path manifestFile = runDir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) throw new UnmaskException(runDir + " has no manifest.json: not a run folder");
        Map<?, ?> manifest = Json.read(manifestFile, Map.class);
        if (!(manifest.get("args") instanceof List<?> recordedArgs)) throw new UnmaskException(manifestFile + " records no args to re-run");
        Path recorded = runDir.resolve("eval.json");
        if (!Files.isRegularFile(recorded)) throw new UnmaskException(runDir + " has no eval.json to compare with");
        Path target = scratch != null ? scratch : Files.createTempDirectory("unmask-reproduce-");
        List<String> args = new ArrayList<>();
        boolean replaced = false;
        for (int i = 0; i < recordedArgs.size(); i++) {
            String a = String.valueOf(recordedArgs.get(i));
            if (a.equals("--out") && i + 1 < recordedArgs.size()) {
                args.add(a);
                args.add(target.resolve("run").toString());
                i++;
                replaced = true;
            } else if (a.startsWith("--out=")) {
                args.add("--out=" + target.resolve("run"));
                replaced = true;
            } else {
                args.add(a);
            }
        }
        if (!replaced) throw new UnmaskException("the recorded command has no --out to redirect");
        System.err.println("re-running: ./unmask " + String.join(" ", args));
        int rc = Main.commandLine().execute(args.toArray(new String[0]));
        if (rc != 0) throw new UnmaskException("the re-run failed (exit " + rc + ")");
        TypeReference<List<EvalRow>> type = new TypeReference<>() {
        };
        List<EvalRow> before = Json.MAPPER.readValue(recorded.toFile(), type);
        List<EvalRow> after = Json.MAPPER.readValue(target.resolve("run/eval.json").toFile(), type);
        Map<String, EvalRow> byKey = new HashMap<>();
        for (EvalRow r : after) byKey.put(key(r), r);
        int same = 0, withinCi = 0, different = 0;
        System.out.println("| task | B | policy | recorded acc | reproduced acc | recorded NFE | reproduced NFE | verdict |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (EvalRow r : before) {
            EvalRow n = byKey.get(key(r));
            String verdict;
            if (n == null) {
                verdict = "MISSING";
                different++;
            } else if (n.accuracy() == r.accuracy() && n.meanNfe() == r.meanNfe()) {
                verdict = "identical";
                same++;
            } else if (n.accuracy() >= r.accCiLow() && n.accuracy() <= r.accCiHigh()) {
                verdict = "within recorded 95% CI";
                withinCi++;
            } else {
                verdict = "DIFFERENT";
                different++;
            }
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %.4f | %s | %.2f | %s | %s |%n", r.task(), r.blockLength(), r.policyParams(), r.accuracy(),
                    n == null ? "-" : String.format(Locale.ROOT, "%.4f", n.accuracy()), r.meanNfe(),
                    n == null ? "-" : String.format(Locale.ROOT, "%.2f", n.meanNfe()), verdict);
        }
        System.out.printf("reproduce: %d identical, %d within the recorded confidence intervals, %d different (re-run in %s)%n",
                same, withinCi, different, target);
        return different == 0 ? 0 : 1;
    }

    private static String key(EvalRow r) {
        return r.task() + "|" + r.genLength() + "|" + r.blockLength() + "|" + r.policyParams() + "|" + r.seed() + "|" + r.n();
    }
}
