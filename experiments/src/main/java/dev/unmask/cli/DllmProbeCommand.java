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
 * can the step be computed at all, whatever the order), {@code --context none} masks the whole buffer
 * (the first forward pass of any decoding: can step k be written from the prompt alone?), and
 * {@code --per-token} splits each step into its tokens, which shows which digit of a total is missing
 * (for arithmetic: the units digit, a sum modulo 10, is learned long after the tens digit).
 *
 * <p>With {@code --context none} the probe also reports the first pass's end-of-sequence belief per
 * buffer position against the share of answers that have really ended there, and how many answers a
 * confidence threshold would cut short in that first pass (EOS committed before the answer's end).
 * In full diffusion this is where the premature-EOS failure starts: a model that reads the length off
 * the prompt is sure and right, one whose length depends on the work should be unsure.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Per answer step: accuracy of predicting the step in one pass given the reference steps before it.")
final class DllmProbeCommand implements Callable<Integer> {
    @Option(names = {"--dllm", "--checkpoint"}, description = "dLLM checkpoint folder or ONNX descriptor folder (--checkpoint is the older name).")
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
            description = "left: the reference before the step is given, everything after it masked; all: only the step is masked; "
                    + "none: the whole buffer is masked (one pass from the prompt alone; also reports the first pass's p(EOS) per position) (default: ${DEFAULT-VALUE}).")
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

    /** What the reference before a step, and after it, the probe gives. */
    enum Context {
        /** The reference before the step; the step and everything after it masked. */
        LEFT,
        /** Everything but the step itself (infilling). */
        ALL,
        /** Nothing: the whole buffer masked, as in the first forward pass of a decoding. */
        NONE;

        static Context parse(String s) {
            return switch (s) {
                case "left" -> LEFT;
                case "all" -> ALL;
                case "none" -> NONE;
                default -> throw new dev.unmask.env.UnmaskException("--context must be left, all or none, not '" + s + "'");
            };
        }
    }

    /**
     * The first forward pass at one buffer position (1-based), over the prompts: the share whose
     * reference answer has ended there (holds EOS), the mean p(EOS), the share with p(EOS) >= 0.9,
     * and the share with p(EOS) >= 0.9 where the answer has not ended (a threshold-0.9 rule commits
     * that EOS in its first step and the answer is cut short).
     */
    record EosRow(String task, int position, int n, double endedShare, double meanEosProb, double shareEosAbove09, double prematureAbove09) {
    }

    /**
     * Over the prompts: the mean absolute gap between the first pass's mean p(EOS) and the ended
     * share, across buffer positions, and for each threshold the share of answers with p(EOS) >= tau
     * at some position before their end, i.e. that a Fast-dLLM threshold rule in full diffusion cuts
     * short in its first step.
     */
    record EosSummary(String task, int n, double meanAbsGap, Map<String, Double> truncatedInFirstPassAtTau) {
    }

    record FirstPassEos(List<EosRow> rows, EosSummary summary) {
    }

    static final double[] TRUNCATION_TAUS = {0.5, 0.7, 0.9, 0.95, 0.99};

    @Override
    public Integer call() {
        long startNanos = System.nanoTime();
        java.time.Instant started = java.time.Instant.now();
        if (checkpoint == null) throw new dev.unmask.env.UnmaskException("missing required option --dllm DIR: the dLLM to probe");
        tasks.forEach(Tasks::byName);
        if (n <= 0 || batch <= 0) throw new dev.unmask.env.UnmaskException("--n and --batch must be positive");
        Context ctx = Context.parse(context);
        if (out != null) dev.unmask.env.io.OutputDirs.requireWritable(out, "--out");
        List<StepRow> rows = new ArrayList<>();
        List<FirstPassEos> eos = new ArrayList<>();
        try (Denoiser dllm = dev.unmask.dllm.onnx.Denoisers.load(checkpoint, engine.engine)) {
            DllmLine.print(checkpoint, engine.engine);
            for (String name : new LinkedHashSet<>(tasks)) {
                rows.addAll(probe(dllm, Tasks.byName(name), split, n, seed, batch, ctx, perToken));
                if (ctx == Context.NONE) eos.add(firstPassEos(dllm, Tasks.byName(name), split, n, seed, batch));
            }
        }
        String table = markdown(rows, perToken);
        for (FirstPassEos e : eos) table += "\n" + eosMarkdown(e);
        System.out.println(table);
        if (out != null) {
            AtomicFiles.writeString(out.resolve("probe.md"), table);
            Json.writeAtomically(out.resolve("probe.json"), rows);
            List<String> files = new ArrayList<>(List.of("probe.md", "probe.json"));
            if (!eos.isEmpty()) {
                Json.writeAtomically(out.resolve("first-pass-eos.json"), eos);
                files.add("first-pass-eos.json");
            }
            DllmCommand.writeCheckpointRunManifest("dllm-probe", spec, checkpoint, tasks, n, seed, split, batch, engine.engine, startNanos, started, out, files);
        }
        return 0;
    }

    /** Start index of each step of an answer, as the task cuts it ({@link Task#stepOfEachToken}: 0 and every ',' or '>' unless the task says otherwise). */
    static List<Integer> stepStarts(Task task, String answer) {
        int[] stepOf = task.stepOfEachToken(answer);
        List<Integer> starts = new ArrayList<>(List.of(0));
        for (int i = 1; i < stepOf.length; i++) if (stepOf[i] != stepOf[i - 1]) starts.add(i);
        return starts;
    }

    /**
     * @param context  what of the reference is given around the step
     * @param perToken one row per token of each step: token accuracy and mean confidence instead of
     *                 the step's exact match and joint confidence
     */
    static List<StepRow> probe(Denoiser dllm, Task task, Split split, int n, long seed, int batch, Context context, boolean perToken) {
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
            List<Integer> starts = stepStarts(task, e.answer());
            for (int k = 0; k < starts.size(); k++) {
                int from = starts.get(k), to = k + 1 < starts.size() ? starts.get(k + 1) : e.answer().length();
                int[] in = clean.clone();
                int maskFrom = context == Context.NONE ? p : p + from, maskTo = context == Context.ALL ? p + to : in.length;
                for (int i = maskFrom; i < maskTo; i++) in[i] = vocab.maskId();
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

    /** One forward pass per prompt with the whole buffer masked: p(EOS) at each buffer position against the reference. */
    static FirstPassEos firstPassEos(Denoiser dllm, Task task, Split split, int n, long seed, int batch) {
        Vocabulary vocab = dllm.vocabulary();
        int len = task.defaultGenLength(), eosId = vocab.eosId();
        List<Example> examples = task.dataset(split, seed, n);
        double[] ended = new double[len], probSum = new double[len], above = new double[len], premature = new double[len];
        int[] truncated = new int[TRUNCATION_TAUS.length];
        for (int from = 0; from < examples.size(); from += batch) {
            int to = Math.min(examples.size(), from + batch);
            int[][] in = new int[to - from][];
            boolean[][] q = new boolean[to - from][];
            int[] promptLen = new int[to - from], answerLen = new int[to - from];
            for (int r = 0; r < in.length; r++) {
                Example e = examples.get(from + r);
                in[r] = Task.targetSequence(vocab, e, len);
                promptLen[r] = vocab.encode(e.prompt()).length;
                answerLen[r] = vocab.encode(e.answer()).length;
                q[r] = new boolean[in[r].length];
                for (int i = promptLen[r]; i < in[r].length; i++) {
                    in[r][i] = vocab.maskId();
                    q[r][i] = true;
                }
            }
            Predictions pred = dllm.predict(in, q, true);
            for (int r = 0; r < in.length; r++) {
                double maxBeforeEnd = 0; // the highest p(EOS) at a position the answer still occupies
                for (int j = 0; j < len; j++) {
                    double pEos = pred.distributions()[r][promptLen[r] + j][eosId];
                    boolean hasEnded = j >= answerLen[r];
                    if (hasEnded) ended[j]++;
                    else maxBeforeEnd = Math.max(maxBeforeEnd, pEos);
                    probSum[j] += pEos;
                    if (pEos >= 0.9) {
                        above[j]++;
                        if (!hasEnded) premature[j]++;
                    }
                }
                for (int t = 0; t < TRUNCATION_TAUS.length; t++) if (maxBeforeEnd >= TRUNCATION_TAUS[t]) truncated[t]++;
            }
        }
        int count = examples.size();
        List<EosRow> rows = new ArrayList<>();
        double gap = 0;
        for (int j = 0; j < len; j++) {
            rows.add(new EosRow(task.name(), j + 1, count, ended[j] / count, probSum[j] / count, above[j] / count, premature[j] / count));
            gap += Math.abs(probSum[j] - ended[j]) / count;
        }
        Map<String, Double> trunc = new LinkedHashMap<>();
        for (int t = 0; t < TRUNCATION_TAUS.length; t++) trunc.put(String.valueOf(TRUNCATION_TAUS[t]), (double) truncated[t] / count);
        return new FirstPassEos(rows, new EosSummary(task.name(), count, gap / len, trunc));
    }

    /** Every 4th position of a 128-token buffer (every position of a 32-token one), then the summary. */
    static String eosMarkdown(FirstPassEos e) {
        StringBuilder sb = new StringBuilder("| task | buffer position | answers ended | mean p(EOS), first pass | p(EOS) >= 0.9 | of those, not ended |\n|---|---|---|---|---|---|\n");
        int every = Math.max(1, e.rows().size() / 32);
        for (EosRow r : e.rows()) {
            if (r.position() % every != 0 && r.position() != 1) continue;
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.3f | %.3f |%n", r.task(), r.position(), r.endedShare(), r.meanEosProb(),
                    r.shareEosAbove09(), r.prematureAbove09()));
        }
        EosSummary s = e.summary();
        StringJoiner trunc = new StringJoiner(", ");
        s.truncatedInFirstPassAtTau().forEach((tau, share) -> trunc.add(String.format(Locale.ROOT, "tau %s: %.1f%%", tau, 100 * share)));
        sb.append(String.format(Locale.ROOT, "%n%s, %d prompts: mean |p(EOS) - ended share| over the buffer %.3f; answers cut short by an EOS a threshold rule commits in the first pass: %s%n",
                s.task(), s.n(), s.meanAbsGap(), trunc));
        return sb.toString();
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
