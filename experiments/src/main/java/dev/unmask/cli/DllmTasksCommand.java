package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.task.*;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * The built-in tasks: one example each, and with {@code --stats} their answer lengths and how much
 * of the length the prompt gives away ({@link LengthStats}). Needs no model.
 */
@Command(name = "tasks", mixinStandardHelpOptions = true,
        description = "List the built-in tasks with an example each; --stats: answer-length distributions and how well the prompt predicts them.")
final class DllmTasksCommand implements Callable<Integer> {
    @Option(names = "--tasks", split = ",", description = "Tasks (default: all).")
    List<String> tasks;
    @Option(names = "--stats", description = "Answer lengths in tokens and steps, the share of answers ended by each buffer position, and the R² and exact-length accuracy of predicting the length from the prompt.")
    boolean stats;
    @Option(names = "--n", defaultValue = "2000", description = "Distinct instances per task for --stats (default: ${DEFAULT-VALUE}).")
    int n;
    @picocli.CommandLine.Mixin
    SeedOption seed = new SeedOption();
    @Option(names = "--split", defaultValue = "train", converter = Splits.class, description = "Split to draw from (default: ${DEFAULT-VALUE}).")
    Split split;
    @Option(names = "--out", description = "Also write tasks.md and tasks.json into this folder.")
    Path out;

    @Override
    public Integer call() {
        List<String> names = tasks == null ? Tasks.names() : tasks;
        names.forEach(Tasks::byName);
        if (n <= 0) throw new UnmaskException("--n must be positive");
        Vocabulary vocab = Vocabulary.builtin();
        StringBuilder md = new StringBuilder("| task | buffer | example prompt | its answer | answer tokens | steps |\n|---|---|---|---|---|---|\n");
        for (String name : names) {
            Task t = Tasks.byName(name);
            Example e = t.dataset(split, seed.seed, 1).get(0);
            md.append(String.format(Locale.ROOT, "| `%s` | %d | `%s` | `%s` | %d | %d |%n", name, t.defaultGenLength(), e.prompt().replace("|", "\\|"),
                    e.answer().replace("|", "\\|"), vocab.encode(e.answer()).length, t.steps(e.answer())));
        }
        List<LengthStats.Report> reports = new ArrayList<>();
        if (stats) {
            for (String name : names) {
                LengthStats.Report r = LengthStats.of(Tasks.byName(name), vocab, split, seed.seed, n);
                reports.add(r);
                md.append('\n').append(LengthStats.markdown(r));
            }
        }
        System.out.print(md);
        if (out != null) {
            AtomicFiles.writeString(out.resolve("tasks.md"), md.toString());
            if (stats) Json.writeAtomically(out.resolve("tasks.json"), reports);
        }
        return 0;
    }
}
