package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.task.Tasks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The README's main job: on the shipped dLLM, train a small GRPO policy in full diffusion, then
 * evaluate it against the hand-made rules in semi-AR (B = 8) and full diffusion on held-out
 * prompts, and write the tables. Each stage resumes if the command is run again.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Train a small policy on the shipped dLLM and compare it with the heuristics in semi-AR and full diffusion.")
final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/quickstart", description = "Run folder (default: ${DEFAULT-VALUE}); re-running resumes it.")
    Path out;
    @Option(names = "--task", defaultValue = "sudoku", description = "Task (default: ${DEFAULT-VALUE}; the shipped dLLMs decode Sudoku well and arithmetic poorly).") String task;
    @Option(names = "--iterations", defaultValue = "20", description = "GRPO iterations (default: ${DEFAULT-VALUE}).") int iterations;
    @Option(names = "--n", defaultValue = "100", description = "Held-out prompts per configuration (default: ${DEFAULT-VALUE}).")
    int n;
    @Option(names = "--dllm", description = "dLLM: a built-in checkpoint folder, or an ONNX export folder or its descriptor.json (default: the shipped models/dllm-a).") Path dllm;

    @Override
    public Integer call() {
        int len = Tasks.byName(task).defaultGenLength();
        if (iterations <= 0 || n <= 0) throw new UnmaskException("--iterations and --n must be positive");
        Path policyRun = out.resolve("policy-run");
        List<String> dllmArg = dllm == null ? List.of() : List.of("--dllm", dllm.toString());
        if (!Files.isRegularFile(policyRun.resolve("manifest.json"))) {
            System.err.println("[1/3] training a GRPO policy in full diffusion (" + iterations + " iterations)");
            List<String> train = new ArrayList<>(List.of("train", "--out", policyRun.toString(), "--resume", "--eval-n", "0",
                    "--set", "task=" + task, "--set", "genLength=" + len, "--set", "blockLength=" + len,
                    "--set", "iterations=" + iterations, "--set", "promptsPerIteration=8", "--set", "groupSize=8",
                    // the recipe of the best reference policy (results/README.md): confidence as log-odds, GRPO's std scaling,
                    // per-step loss averaging (best here: results/ablations/loss-normalisation)
                    "--set", "features=[confidence_logodds]", "--set", "groupStdScaling=true", "--set", "lossNormalisation=step"));
            train.addAll(dllmArg);
            run(train);
        }
        System.err.println("[2/3] evaluating it against the heuristics, semi-AR (B=8) and full diffusion, " + n + " held-out prompts each");
        List<String> sweep = new ArrayList<>(List.of("sweep", "--out", out.resolve("eval").toString(), "--tasks", task,
                "--block-lengths", "8,full", "--n", Integer.toString(n), "--workers", "2", "--split", "test", "--policies",
                "topk:steps=" + len + "|" + len / 4 + "|" + len / 8 + ",threshold:tau=0.7|0.9,factor:f=1.0,eb:gamma=0.1,"
                        + "learned:path=" + policyRun.resolve("policy") + ",learned:path=" + policyRun.resolve("policy") + ",mode=sample,temp=1.0"));
        if (dllm != null) sweep.addAll(List.of("--dllm", dllm.toString()));
        run(sweep);
        System.err.println("[3/3] writing the report (tables, accuracy-vs-NFE plots, training curves)");
        run(List.of("report", out.resolve("eval").toString()));
        run(List.of("report", policyRun.toString()));
        System.out.println("Report: " + out.resolve("eval/report.md") + " (tables eval.csv/eval.md, plots, manifest.json); training curves: "
                + policyRun.resolve("report.md") + "; policy: " + policyRun.resolve("policy"));
        return 0;
    }

    private static void run(List<String> args) {
        int rc = Main.commandLine().execute(args.toArray(new String[0]));
        if (rc != 0) throw new UnmaskException("quickstart step '" + args.get(0) + "' failed (exit " + rc + ")");
    }
}
