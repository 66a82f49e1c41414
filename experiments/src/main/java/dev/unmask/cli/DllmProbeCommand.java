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
 * decoding). {@code --context all} gives the rest of the reference on both sides as well (infilling:
 * can the step be computed at all, whatever the order), and {@code --per-token} splits each step into
 * its tokens, which shows which digit of a total is missing (for arithmetic: the units digit, a sum
 * modulo 10, is learned long after the tens digit).
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
    @Option(names = "--batch", defaultValue = "64", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--split", defaultValue = "test", converter = Splits.class,
            description = "Held-out prompts: validation or test (default: ${DEFAULT-VALUE}).")
    Split split;
    @Option(names = "--context", defaultValue = "left",
            description = "left: the reference before the step is given, everything after it masked; all: only the step is masked (default: ${DEFAULT-VALUE}).")
    String context;
    @Option(names = "--per-token", description = "One row per token of each step (token accuracy and mean confidence) instead of per step.")
    boolean perToken;
    @Option(names = "--out", description = "Also write probe.md, probe.json and a manifest into this folder.") Path out;
    @picocli.CommandLine.Mixin
    DllmEngineOption engine = new DllmEngineOption();
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /**
     * One row of the table: a task's k-th step (or its final answer) over the held-out prompts. With
     * --per-token the row is one token of a step ("step 3 token 6"): exactMatch is then that token's
     * accuracy and meanJointConfidence its mean confidence.
     */
    record StepRow(String task, String step, int n, double exactMatch, double meanJointConfidence) {
    }

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        java.time.Instant started = java.time.Instant.now();
        tasks.forEach(Tasks::byName);
        if (n <= 0 || batch <= 0) throw new dev.unmask.env.UnmaskException("--n and --batch must be positive");
        if (!context.equals("left") && !context.equals("all")) {
            throw new dev.unmask.env.UnmaskException("--context must be left or all, not '" + context + "'");
        }
        List<StepRow> rows = new ArrayList<>();
        try (Denoiser dllm = dev.unmask.env.denoiser.onnx.Denoisers.load(checkpoint, engine.engine)) {
            for (String name : new LinkedHashSet<>(tasks)) rows.addAll(probe(dllm, Tasks.byName(name), split, n, seed, batch, context.equals("all"), perToken));
        }
        String table = markdown(rows, perToken);
        System.out.println(table);
        if (out != null) {
            AtomicFiles.writeString(out.resolve("probe.md"), table);
            Json.writeAtomically(out.resolve("probe.json"), rows);
            DllmCommand.writeCheckpointRunManifest("dllm-probe", spec, checkpoint, tasks, n, seed, split, batch, engine.engine, startNanos, started, out, List.of("probe.md", "probe.json"));
        }
        return 0;
    }

    /** Start index of each step of an answer: 0 and every ',' or '>'. */
    static List<Integer> stepStarts(String answer) {
        List<Integer> starts = new ArrayList<>(List.of(0));
        for (int i = 1; i < answer.length(); i++) if (answer.charAt(i) == ',' || answer.charAt(i) == '>') starts.add(i);
        return starts;
    }

    /**
     * @param bothSides mask only the step itself (the reference after it stays given), not everything after it
     * @param perToken  one row per token of each step: token accuracy and mean confidence instead of
     *                  the step's exact match and joint confidence
     */
    static List<StepRow> probe(Denoiser dllm, Task task, Split split, int n, long seed, int batch, boolean bothSides, boolean perToken) {
        Vocabulary vocab = dllm.vocabulary();
        int len = task.defaultGenLength();
        // label -> [count, exact, sum of joint confidence]
        Map<String, double[]> acc = new LinkedHashMap<>();
        List<int[]> inputs = new ArrayList<>();
        List<boolean[]> queries = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        List<Integer> stepStart = new ArrayList<>();
        for (Example e : task.dataset(split, seed, n)) {
            int[] clean = Task.targetSequence(vocab, e, len);
            int p = vocab.encode(e.prompt()).length;
            List<Integer> starts = stepStarts(e.answer());
            for (int k = 0; k < starts.size(); k++) {
                int from = starts.get(k), to = k + 1 < starts.size() ? starts.get(k + 1) : e.answer().length();
                int[] in = clean.clone();
                for (int i = p + from; i < (bothSides ? p + to : in.length); i++) in[i] = vocab.maskId();
                boolean[] q = new boolean[in.length];
                for (int i = p + from; i < p + to; i++) q[i] = true;
                String label = e.answer().charAt(from) == '>' ? "final answer" : "step " + Math.min(k + 1, 6) + (k + 1 >= 6 ? "+" : "");
                inputs.add(in);
                queries.add(q);
                labels.add(label);
                targets.add(clean);
                stepStart.add(p + from);
                if (!perToken) acc.computeIfAbsent(label, x -> new double[3]);
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
                    boolean right = pred.top1()[r][i] == target[i];
                    if (!right) exact = false;
                    joint *= pred.confidence()[r][i];
                    if (perToken) {
                        // label "step 3 token 6": the token's 1-based place within its step
                        double[] t = acc.computeIfAbsent(labels.get(from + r) + " token " + (i - stepStart.get(from + r) + 1), x -> new double[3]);
                        t[0]++;
                        if (right) t[1]++;
                        t[2] += pred.confidence()[r][i];
                    }
                }
                if (perToken) continue;
                double[] a = acc.get(labels.get(from + r));
                a[0]++;
                if (exact) a[1]++;
                a[2] += joint;
            }
        }
        List<StepRow> rows = new ArrayList<>();
        List<String> order = new ArrayList<>(acc.keySet());
        order.sort(Comparator.comparing((String s) -> s.startsWith("final answer")).thenComparing(DllmProbeCommand::naturalKey));
        for (String label : order) {
            double[] a = acc.get(label);
            rows.add(new StepRow(task.name(), label, (int) a[0], a[1] / a[0], a[2] / a[0]));
        }
        return rows;
    }

    private static final java.util.regex.Pattern NUMBER = java.util.regex.Pattern.compile("\\d+");

    /** "step 2 token 10" after "step 2 token 9": numbers compared as numbers. */
    private static String naturalKey(String label) {
        return NUMBER.matcher(label).replaceAll(m -> String.format("%06d", Integer.parseInt(m.group())));
    }

    static String markdown(List<StepRow> rows, boolean perToken) {
        StringBuilder sb = new StringBuilder(perToken
                ? "| task | step and token | n | token accuracy | mean confidence |\n|---|---|---|---|---|\n"
                : "| task | step | n | exact match | mean joint confidence |\n|---|---|---|---|---|\n");
        for (StepRow r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.3f |%n", r.task(), r.step(), r.n(), r.exactMatch(), r.meanJointConfidence()));
        }
        return sb.toString();
    }
}
