package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The README's main job. Today: the shipped dLLM decoded by the hand-made rules on held-out
 * arithmetic in semi-AR (B = 8) and full diffusion, written as a report. (Training a policy and
 * putting it in the same table joins once the learned policy lands.)
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "The main job, end to end on the shipped dLLM: heuristics in semi-AR and full diffusion, with a report.")
final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/quickstart", description = "Run folder (default: ${DEFAULT-VALUE}); re-running resumes it.")
    Path out;
    @Option(names = "--n", defaultValue = "100", description = "Held-out prompts per configuration (default: ${DEFAULT-VALUE}).")
    int n;
    @Option(names = "--task", defaultValue = "arith") String task;

    @Override
    public Integer call() {
        int len = dev.unmask.env.task.Tasks.byName(task).defaultGenLength();
        List<String> args = new ArrayList<>(List.of("sweep", "--out", out.toString(), "--tasks", task, "--block-lengths", "8,full",
                "--n", Integer.toString(n), "--workers", "2",
                "--policies", "topk:steps=" + len + "|" + len / 4 + "|" + len / 8 + ",threshold:tau=0.7|0.9,factor:f=1.0,eb:gamma=0.1"));
        int rc = Main.commandLine().execute(args.toArray(new String[0]));
        if (rc != 0) throw new UnmaskException("quickstart sweep failed (exit " + rc + ")");
        System.out.println("Results: " + out.resolve("eval.md") + " (also eval.csv, eval.json, manifest.json)");
        return 0;
    }
}
