package dev.unmask.cli;

import dev.unmask.env.io.PathKinds;
import dev.unmask.runs.TrainingCost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "costs", mixinStandardHelpOptions = true,
        description = "The wall time of policy-training runs and where it went (rollouts, the dLLM's forward passes, the policy update), as a markdown table.")
final class CostsCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Training run folders (each with metrics.jsonl, as `unmask train --out` writes).")
    List<Path> runs;

    @Override
    public Integer call() throws IOException {
        for (Path r : runs) PathKinds.requireFolder(r, "run folder", "a policy-training run folder");
        System.out.print(TrainingCost.markdown(TrainingCost.of(runs)));
        return 0;
    }
}
