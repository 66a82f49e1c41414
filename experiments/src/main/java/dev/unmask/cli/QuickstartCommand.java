package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.task.Tasks;
import dev.unmask.runs.QuickstartSummary;
import dev.unmask.runs.Report;
import dev.unmask.env.io.Json;
import com.fasterxml.jackson.core.type.TypeReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The README's main job. Default (the testbed task lag48 on its shipped dLLM models/dllm-t4, L = 128):
 * train a policy with GRPO for a few iterations from the start this project found (a fresh policy
 * initialised as the frontier rule), evaluate it on held-out test prompts in full diffusion and with
 * blocks of 32 beside the published rules and that start rule, and open the report with three
 * sentences built from the rows ({@link QuickstartSummary}). Any other --task (sudoku included) runs
 * the small from-scratch version: 20 iterations, semi-AR B = 8 and full diffusion. Each stage
 * resumes if the command is run again.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Train a policy with GRPO on the shipped dLLM and compare it with the published rules in semi-AR and full diffusion "
                + "(default: the testbed task lag48, where full diffusion loses to blocks of 32 and a learned policy wins; --task sudoku: the small from-scratch run).")
final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/quickstart", description = "Run folder (default: ${DEFAULT-VALUE}); re-running resumes it.")
    Path out;
    @Option(names = "--task", defaultValue = TESTBED, description = "Task (default: ${DEFAULT-VALUE}, the testbed: GRPO from the frontier-rule start, "
            + "evaluated in full diffusion and B=32; any other task, e.g. sudoku, runs the small from-scratch quickstart: B=8 and full diffusion).") String task;
    @Option(names = "--iterations", description = "GRPO iterations (default: " + TESTBED_ITERATIONS + " for lag48, 20 for other tasks).") Integer iterations;
    @Option(names = "--n", description = "Held-out prompts per configuration (default: " + TESTBED_N + " for lag48, 100 for other tasks).")
    Integer n;
    @Option(names = "--dllm", description = "dLLM: a built-in checkpoint folder, or an ONNX export folder or its descriptor.json (default: the task's shipped model, models/dllm-t4 for lag48, models/dllm-a for sudoku).") Path dllm;

    static final String TESTBED = "lag48";
    static final int TESTBED_ITERATIONS = 3, TESTBED_N = 150, TESTBED_BLOCK = 32;
    /** The fresh policy's start (TrainConfig initThreshold, initFrontierSlope) and the same rule as a heuristic. */
    static final String START_TAU = "0.99", START_SLOPE = "24";
    static final String START_PARAMS = "frontier(slope=24.0,tau=0.99)";

    @Override
    public Integer call() {
        if (task.equals(TESTBED)) return testbed();
        int iterations = this.iterations == null ? 20 : this.iterations, n = this.n == null ? 100 : this.n;
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

    private Integer testbed() {
        int iterations = this.iterations == null ? TESTBED_ITERATIONS : this.iterations, n = this.n == null ? TESTBED_N : this.n;
        if (iterations <= 0 || n <= 0) throw new UnmaskException("--iterations and --n must be positive");
        int len = Tasks.byName(task).defaultGenLength();
        Path policyRun = out.resolve("policy-run"), eval = out.resolve("eval");
        List<String> dllmArg = dllm == null ? List.of() : List.of("--dllm", dllm.toString());
        if (!Files.isRegularFile(policyRun.resolve("manifest.json"))) {
            System.err.println("[1/3] training a GRPO policy in full diffusion on " + task + " (" + iterations + " iterations, starting as the frontier rule "
                    + START_PARAMS + ")");
            // the recipe of the kept testbed policy results/frontier/attempt-lag48-s24lr1 (configs/grpo-lag48-full.yaml, a frontier-rule
            // start, learning rate 1e-2), with fewer and smaller iterations so that it takes about half a minute on 2 cores
            List<String> train = new ArrayList<>(List.of("train", "--out", policyRun.toString(), "--resume", "--eval-n", "0",
                    "--set", "algorithm=grpo", "--set", "task=" + task, "--set", "genLength=" + len, "--set", "blockLength=" + len,
                    "--set", "features=[confidence_logodds,mask_bit,buffer_step_fraction,masked_before]", "--set", "policyContext=buffer",
                    "--set", "rewardForm=alpha", "--set", "rewardAlpha=1.0", "--set", "entropyCoef=0.0", "--set", "groupStdScaling=false",
                    "--set", "lossNormalisation=episode",
                    "--set", "initThreshold=" + START_TAU, "--set", "initFrontierSlope=" + START_SLOPE, "--set", "learningRate=0.01",
                    "--set", "iterations=" + iterations, "--set", "promptsPerIteration=8", "--set", "groupSize=8", "--set", "policyUpdate=fast"));
            train.addAll(dllmArg);
            run(train);
        }
        System.err.println("[2/3] evaluating it against the published rules and its start rule, semi-AR (B=" + TESTBED_BLOCK + ") and full diffusion, "
                + n + " held-out test prompts each");
        List<String> sweep = new ArrayList<>(List.of("sweep", "--out", eval.toString(), "--tasks", task,
                "--block-lengths", TESTBED_BLOCK + ",full", "--n", Integer.toString(n), "--workers", "2", "--split", "test", "--policies",
                "topk:steps=" + len / 4 + ",threshold:tau=0.9|0.99|0.998,factor:f=1.0,eb:gamma=0.1,frontier:tau=" + START_TAU + ",slope=" + START_SLOPE
                        + ",learned:path=" + policyRun.resolve("policy")));
        sweep.addAll(dllmArg);
        run(sweep);
        System.err.println("[3/3] writing the report (opening sentences, tables, accuracy-vs-NFE plots, training curves)");
        String summary;
        try {
            List<EvalRow> rows = Json.MAPPER.readValue(eval.resolve("eval.json").toFile(), new TypeReference<List<EvalRow>>() {
            });
            summary = QuickstartSummary.sentences(rows, TESTBED_BLOCK, START_PARAMS, iterations);
            Files.writeString(eval.resolve(Report.SUMMARY), summary + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run(List.of("report", eval.toString()));
        run(List.of("report", policyRun.toString()));
        System.out.println(summary);
        System.out.println();
        System.out.println("Report: " + eval.resolve("report.md") + " (tables eval.csv/eval.md, plots, manifest.json); training curves: "
                + policyRun.resolve("report.md") + "; policy: " + policyRun.resolve("policy"));
        return 0;
    }

    private static void run(List<String> args) {
        int rc = Main.commandLine().execute(args.toArray(new String[0]));
        if (rc != 0) throw new UnmaskException("quickstart step '" + args.get(0) + "' failed (exit " + rc + ")");
    }
}
