package dev.unmask.runs.probe;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Left-to-right probe: can the dLLM write each step of the reference answer when every earlier step
 * is given? The answer is cut into steps at ',' and '>' (a trace step, a sorted number, the final
 * answer); for step k the buffer holds the reference up to the step and masks from there to the
 * end, and one forward pass must predict the step's tokens. Separates "cannot compute a step"
 * (low here) from "computes steps but decodes them in a bad order" (high here, low under careful
 * decoding). {@link Context#ALL} gives the rest of the reference on both sides as well (infilling:
 * can the step be computed at all, whatever the order), {@link Context#NONE} masks the whole buffer
 * (the first forward pass of any decoding: can step k be written from the prompt alone?), and
 * per-token rows split each step into its tokens, which shows which digit of a total is missing
 * (for arithmetic: the units digit, a sum modulo 10, is learned long after the tens digit).
 */
public final class StepProbe {
    private StepProbe() {
    }

    /**
     * One row of the table: a task's k-th step (or its final answer) over the held-out prompts. Per
     * token the row is one token of a step ("step 3 token 6"): exactMatch is then that token's
     * accuracy and meanJointConfidence its mean confidence.
     */
    public record StepRow(String task, String step, int n, double exactMatch, double meanJointConfidence) {
    }

    /** What the reference before a step, and after it, the probe gives. */
    public enum Context {
        /** The reference before the step; the step and everything after it masked. */
        LEFT,
        /** Everything but the step itself (infilling). */
        ALL,
        /** Nothing: the whole buffer masked, as in the first forward pass of a decoding. */
        NONE;

        public static Context parse(String s) {
            return switch (s) {
                case "left" -> LEFT;
                case "all" -> ALL;
                case "none" -> NONE;
                default -> throw new UnmaskException("--context must be left, all or none, not '" + s + "'");
            };
        }
    }

    /** Start index of each step of an answer, as the task cuts it ({@link Task#stepOfEachToken}: 0 and every ',' or '>' unless the task says otherwise). */
    public static List<Integer> stepStarts(Task task, String answer) {
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
    public static List<StepRow> probe(Denoiser dllm, Task task, Split split, int n, long seed, int batch, Context context, boolean perToken) {
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
        order.sort(Comparator.comparing((String s) -> s.startsWith("final answer")).thenComparing(StepProbe::naturalKey));
        for (String label : order) {
            double[] a = acc.get(label);
            rows.add(new StepRow(task.name(), label, (int) a[0], a[1] / a[0], a[2] / a[0]));
        }
        return rows;
    }

    private static final Pattern NUMBER = Pattern.compile("\\d+");

    /** "step 2 token 10" after "step 2 token 9": numbers compared as numbers. */
    private static String naturalKey(String label) {
        return NUMBER.matcher(label).replaceAll(m -> String.format("%06d", Integer.parseInt(m.group())));
    }

    /** The probe's table: per step, or per token of each step. */
    public static String markdown(List<StepRow> rows, boolean perToken) {
        StringBuilder sb = new StringBuilder(perToken
                ? "| task | step and token | n | token accuracy | mean confidence |\n|---|---|---|---|---|\n"
                : "| task | step | n | exact match | mean joint confidence |\n|---|---|---|---|---|\n");
        for (StepRow r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.3f |%n", r.task(), r.step(), r.n(), r.exactMatch(), r.meanJointConfidence()));
        }
        return sb.toString();
    }
}
