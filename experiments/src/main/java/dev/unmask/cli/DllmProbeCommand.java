package dev.unmask.cli;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * Left-to-right probe: can the dLLM write each step of the reference answer when every earlier step
 * is given? The answer is cut into steps at ',' and '>' (a trace step, a sorted number, the final
 * answer); for step k the buffer holds the reference up to the step and masks from there to the
 * end, and one forward pass must predict the step's tokens. Separates "cannot compute a step"
 * (low here) from "computes steps but decodes them in a bad order" (high here, low under careful
 * decoding).
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Per answer step: accuracy of predicting the step in one pass given the reference steps before it.")
final class DllmProbeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "dLLM checkpoint folder (or ONNX descriptor folder).")
    Path checkpoint;
    @Option(names = "--tasks", split = ",", defaultValue = "arith-running", description = "Tasks (default: ${DEFAULT-VALUE}).")
    List<String> tasks;
    @Option(names = "--n", defaultValue = "200", description = "Held-out prompts per task.") int n;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--batch", defaultValue = "64") int batch;
    @Option(names = "--out", description = "Also write probe.md, probe.json and a manifest into this folder.") Path out;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** One row of the table: a task's k-th step (or its final answer) over the held-out prompts. */
    record StepRow(String task, String step, int n, double exactMatch, double meanJointConfidence) {
    }

    @Override
    public Integer call() {
        tasks.forEach(Tasks::byName);
        if (n <= 0 || batch <= 0) throw new dev.unmask.env.UnmaskException("--n and --batch must be positive");
        List<StepRow> rows = new ArrayList<>();
        try (Denoiser dllm = dev.unmask.env.denoiser.onnx.Denoisers.load(checkpoint)) {
            for (String name : new LinkedHashSet<>(tasks)) rows.addAll(probe(dllm, Tasks.byName(name), n, seed, batch));
        }
        String table = markdown(rows);
        System.out.println(table);
        if (out != null) {
            AtomicFiles.writeString(out.resolve("probe.md"), table);
            Json.writeAtomically(out.resolve("probe.json"), rows);
            DllmCommand.writeCheckpointRunManifest("dllm-probe", spec, checkpoint, tasks, n, seed, batch, out, List.of("probe.md", "probe.json"));
        }
        return 0;
    }

    /** Start index of each step of an answer: 0 and every ',' or '>'. */
    static List<Integer> stepStarts(String answer) {
        List<Integer> starts = new ArrayList<>(List.of(0));
        for (int i = 1; i < answer.length(); i++) if (answer.charAt(i) == ',' || answer.charAt(i) == '>') starts.add(i);
        return starts;
    }

    static List<StepRow> probe(Denoiser dllm, Task task, int n, long seed, int batch) {
        Vocabulary vocab = dllm.vocabulary();
        int len = task.defaultGenLength();
        // label -> [count, exact, sum of joint confidence]
        Map<String, double[]> acc = new LinkedHashMap<>();
        List<int[]> inputs = new ArrayList<>();
        List<boolean[]> queries = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        for (Example e : task.dataset(Split.TEST, seed, n)) {
            int[] clean = Task.targetSequence(vocab, e, len);
            int p = vocab.encode(e.prompt()).length;
            List<Integer> starts = stepStarts(e.answer());
            for (int k = 0; k < starts.size(); k++) {
                int from = starts.get(k), to = k + 1 < starts.size() ? starts.get(k + 1) : e.answer().length();
                int[] in = clean.clone();
                for (int i = p + from; i < in.length; i++) in[i] = vocab.maskId();
                boolean[] q = new boolean[in.length];
                for (int i = p + from; i < p + to; i++) q[i] = true;
                String label = e.answer().charAt(from) == '>' ? "final answer" : "step " + Math.min(k + 1, 6) + (k + 1 >= 6 ? "+" : "");
                inputs.add(in);
                queries.add(q);
                labels.add(label);
                targets.add(clean);
                acc.computeIfAbsent(label, x -> new double[3]);
            }
        }
        for (int from = 0; from < inputs.size(); from += batch) {
            int to = Math.min(inputs.size(), from + batch);
            Predictions pred = dllm.predict(inputs.subList(from, to).toArray(new int[0][]), queries.subList(from, to).toArray(new boolean[0][]), false);
            for (int r = 0; r < to - from; r++) {
                boolean[] q = queries.get(from + r);
                int[] target = targets.get(from + r);
                boolean exact = true;
                double joint = 1;
                for (int i = 0; i < q.length; i++) {
                    if (!q[i]) continue;
                    if (pred.top1()[r][i] != target[i]) exact = false;
                    joint *= pred.confidence()[r][i];
                }
                double[] a = acc.get(labels.get(from + r));
                a[0]++;
                if (exact) a[1]++;
                a[2] += joint;
            }
        }
        List<StepRow> rows = new ArrayList<>();
        List<String> order = new ArrayList<>(acc.keySet());
        order.sort(Comparator.comparing((String s) -> s.equals("final answer")).thenComparing(s -> s));
        for (String label : order) {
            double[] a = acc.get(label);
            rows.add(new StepRow(task.name(), label, (int) a[0], a[1] / a[0], a[2] / a[0]));
        }
        return rows;
    }

    static String markdown(List<StepRow> rows) {
        StringBuilder sb = new StringBuilder("| task | step | n | exact match | mean joint confidence |\n|---|---|---|---|---|\n");
        for (StepRow r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.3f |%n", r.task(), r.step(), r.n(), r.exactMatch(), r.meanJointConfidence()));
        }
        return sb.toString();
    }
}
