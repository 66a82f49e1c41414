package dev.unmask.env.task;

import dev.unmask.env.denoiser.Vocabulary;

import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a task's answers are, and how much of that length the prompt gives away.
 *
 * <p>Why it matters: in full diffusion the dLLM's first forward pass sees only the prompt, so its
 * belief that buffer position i is end-of-sequence can be no sharper than what the prompt says
 * about the answer's length. Where the prompt fixes the length (sorting n numbers, an arithmetic
 * chain of n operands) a well-trained model commits the EOS padding early and safely; where the
 * length is decided by the work itself, the first-pass p(EOS) at position i is at best the share of
 * answers that have ended by i ({@link Report#endedShare()}), and a confidence rule that commits
 * EOS there cuts answers short. {@link Predictability} measures the prompt's share: how well a
 * linear fit on obvious prompt features explains the length (R², out of fold), and how often the
 * exact length is guessed from the prompt's size alone.
 *
 * <p>Obvious features, the same for every task: the prompt's token count, how many numbers it holds,
 * and the digit count of its first two numbers ("size"); plus the log10 of those two numbers
 * ("size and values"). All estimates are 5-fold cross-validated on the sampled instances.
 */
public final class LengthStats {
    private static final Pattern NUMBER = Pattern.compile("\\d+");
    private static final Pattern SPECIAL_TOKEN = Pattern.compile("<[^>]*>");
    private static final int FOLDS = 5;

    private LengthStats() {
    }

    /** min, 10th, 50th, 90th percentile, max, mean, standard deviation and the number of distinct values. */
    public record Distribution(int min, int p10, int p50, int p90, int max, double mean, double sd, int distinct) {
        static Distribution of(int[] values) {
            int[] s = values.clone();
            Arrays.sort(s);
            double mean = Arrays.stream(s).average().orElse(Double.NaN);
            double var = Arrays.stream(s).mapToDouble(v -> (v - mean) * (v - mean)).sum() / Math.max(1, s.length - 1);
            return new Distribution(s[0], s[(int) (0.1 * (s.length - 1))], s[(s.length - 1) / 2], s[(int) (0.9 * (s.length - 1))], s[s.length - 1],
                    mean, Math.sqrt(var), (int) Arrays.stream(s).distinct().count());
        }
    }

    /**
     * How well the prompt predicts the answer's length in tokens and in steps. {@code r2*}: R² of a
     * least-squares linear fit on the features, out of fold (NaN when the length never varies; can
     * be negative when the fit is worse than the mean). {@code exact*}: out-of-fold accuracy of
     * guessing the most frequent length among training instances with the same feature values (only
     * for discrete features, else NaN). {@code modeExact*}: the same guess with no features.
     * {@code rmseTokens}: the linear fit's out-of-fold root-mean-square error in tokens, i.e. how
     * many buffer positions the prompt leaves the end of the answer uncertain by.
     */
    public record Predictability(String features, double r2Tokens, double r2Steps, double rmseTokens, double exactTokens, double exactSteps,
                                 double modeExactTokens, double modeExactSteps) {
    }

    /**
     * @param endedShare   for buffer position i (0-based), the share of answers that have ended
     *                     before it, i.e. whose reference holds EOS at i
     * @param stepCounts   number of instances per step count
     * @param tokenCounts  number of instances per answer length in tokens
     */
    public record Report(String task, int genLength, int n, Split split, long seed, Distribution answerTokens, Distribution steps,
                         SortedMap<Integer, Integer> stepCounts, SortedMap<Integer, Integer> tokenCounts, double[] endedShare,
                         List<Predictability> predictability) {
        /** First buffer position (1-based) by which at least {@code share} of the answers have ended. */
        public int positionEnded(double share) {
            for (int i = 0; i < endedShare.length; i++) if (endedShare[i] >= share - 1e-12) return i + 1;
            return endedShare.length + 1;
        }
    }

    /**
     * The steps of a worked trace: the answer up to its final {@code '>'} (all of it if there is
     * none) cut at {@code ','}, as {@code dllm probe} cuts it. A Euclid trace has one step per
     * division, a digit-square trace one per value, an arithmetic trace one per operation.
     */
    public static int steps(String answer) {
        int end = answer.lastIndexOf('>');
        String trace = end < 0 ? answer : answer.substring(0, end);
        if (trace.isEmpty()) return 0;
        int n = 1;
        for (int i = 0; i < trace.length(); i++) if (trace.charAt(i) == ',') n++;
        return n;
    }

    /** The obvious size features of a prompt: token count, count of numbers, digits of the first two numbers. */
    static double[] sizeFeatures(Vocabulary vocab, String prompt) {
        List<String> numbers = numbers(prompt);
        return new double[]{vocab.encode(prompt).length, numbers.size(), digits(numbers, 0), digits(numbers, 1)};
    }

    /** Size features plus log10 of the first two numbers (0 when absent). */
    static double[] sizeAndValueFeatures(Vocabulary vocab, String prompt) {
        List<String> numbers = numbers(prompt);
        double[] size = sizeFeatures(vocab, prompt);
        double[] out = Arrays.copyOf(size, size.length + 2);
        for (int k = 0; k < 2; k++) out[size.length + k] = numbers.size() > k ? Math.log10(1 + Double.parseDouble(numbers.get(k))) : 0;
        return out;
    }

    private static List<String> numbers(String prompt) {
        Matcher m = NUMBER.matcher(SPECIAL_TOKEN.matcher(prompt).replaceAll(" "));
        List<String> out = new ArrayList<>();
        while (m.find()) out.add(m.group());
        return out;
    }

    private static double digits(List<String> numbers, int k) {
        return numbers.size() > k ? numbers.get(k).length() : 0;
    }

    /** Statistics over n distinct instances of a split (the task's {@link Task#dataset}). */
    public static Report of(Task task, Vocabulary vocab, Split split, long seed, int n) {
        List<Example> examples = task.dataset(split, seed, n);
        int genLength = task.defaultGenLength();
        int[] tokens = new int[n], steps = new int[n];
        double[][] size = new double[n][], sizeValues = new double[n][];
        SortedMap<Integer, Integer> stepCounts = new TreeMap<>(), tokenCounts = new TreeMap<>();
        double[] ended = new double[genLength];
        for (int i = 0; i < n; i++) {
            Example e = examples.get(i);
            tokens[i] = vocab.encode(e.answer()).length;
            steps[i] = task.steps(e.answer());
            size[i] = sizeFeatures(vocab, e.prompt());
            sizeValues[i] = sizeAndValueFeatures(vocab, e.prompt());
            stepCounts.merge(steps[i], 1, Integer::sum);
            tokenCounts.merge(tokens[i], 1, Integer::sum);
            for (int p = Math.min(tokens[i], genLength); p < genLength; p++) ended[p]++;
        }
        for (int p = 0; p < genLength; p++) ended[p] /= n;
        List<Predictability> pred = List.of(
                new Predictability("size", outOfFoldR2(size, tokens), outOfFoldR2(size, steps), outOfFoldRmse(size, tokens), outOfFoldExact(size, tokens), outOfFoldExact(size, steps),
                        outOfFoldExact(new double[n][0], tokens), outOfFoldExact(new double[n][0], steps)),
                new Predictability("size and values", outOfFoldR2(sizeValues, tokens), outOfFoldR2(sizeValues, steps), outOfFoldRmse(sizeValues, tokens), Double.NaN, Double.NaN,
                        outOfFoldExact(new double[n][0], tokens), outOfFoldExact(new double[n][0], steps)));
        return new Report(task.name(), genLength, n, split, seed, Distribution.of(tokens), Distribution.of(steps), stepCounts, tokenCounts, ended, pred);
    }

    /** R² of a least-squares linear fit (with intercept), each fold predicted by a fit on the other folds. */
    static double outOfFoldR2(double[][] x, int[] y) {
        double mean = Arrays.stream(y).average().orElse(0);
        double sst = Arrays.stream(y).mapToDouble(v -> (v - mean) * (v - mean)).sum();
        if (sst == 0) return Double.NaN;
        return 1 - outOfFoldSse(x, y) / sst;
    }

    /** Root-mean-square error of the out-of-fold linear fit. */
    static double outOfFoldRmse(double[][] x, int[] y) {
        return Math.sqrt(outOfFoldSse(x, y) / y.length);
    }

    private static double outOfFoldSse(double[][] x, int[] y) {
        double sse = 0;
        for (int fold = 0; fold < FOLDS; fold++) {
            List<Integer> fit = new ArrayList<>();
            for (int i = 0; i < y.length; i++) if (i % FOLDS != fold) fit.add(i);
            double[] beta = leastSquares(x, y, fit);
            for (int i = fold; i < y.length; i += FOLDS) {
                double r = y[i] - predict(beta, x[i]);
                sse += r * r;
            }
        }
        return sse;
    }

    /** Out-of-fold accuracy of guessing the most frequent value among fit instances with identical features (the overall mode for unseen ones). */
    static double outOfFoldExact(double[][] x, int[] y) {
        int right = 0;
        for (int fold = 0; fold < FOLDS; fold++) {
            Map<List<Double>, Map<Integer, Integer>> byFeatures = new HashMap<>();
            Map<Integer, Integer> overall = new HashMap<>();
            for (int i = 0; i < y.length; i++) {
                if (i % FOLDS == fold) continue;
                byFeatures.computeIfAbsent(key(x[i]), k -> new HashMap<>()).merge(y[i], 1, Integer::sum);
                overall.merge(y[i], 1, Integer::sum);
            }
            for (int i = fold; i < y.length; i += FOLDS) {
                Map<Integer, Integer> counts = byFeatures.getOrDefault(key(x[i]), overall);
                if (mostFrequent(counts) == y[i]) right++;
            }
        }
        return (double) right / y.length;
    }

    private static List<Double> key(double[] features) {
        return Arrays.stream(features).boxed().toList();
    }

    /** The most frequent value; ties go to the smallest, so the result does not depend on hash order. */
    private static int mostFrequent(Map<Integer, Integer> counts) {
        int best = Integer.MAX_VALUE, bestCount = -1;
        for (var e : counts.entrySet()) {
            if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < best)) {
                best = e.getKey();
                bestCount = e.getValue();
            }
        }
        return best;
    }

    private static double predict(double[] beta, double[] x) {
        double s = beta[0];
        for (int j = 0; j < x.length; j++) s += beta[j + 1] * x[j];
        return s;
    }

    /**
     * Ordinary least squares with an intercept through the normal equations; a tiny ridge keeps them
     * solvable when a feature is constant (e.g. the count of numbers in a task whose prompts all hold two).
     */
    static double[] leastSquares(double[][] x, int[] y, List<Integer> rows) {
        int k = (x.length == 0 ? 0 : x[0].length) + 1;
        double[][] a = new double[k][k + 1];
        for (int i : rows) {
            double[] z = new double[k];
            z[0] = 1;
            System.arraycopy(x[i], 0, z, 1, k - 1);
            for (int r = 0; r < k; r++) {
                for (int c = 0; c < k; c++) a[r][c] += z[r] * z[c];
                a[r][k] += z[r] * y[i];
            }
        }
        for (int r = 1; r < k; r++) a[r][r] += 1e-9 * rows.size();
        // Gaussian elimination with partial pivoting
        for (int col = 0; col < k; col++) {
            int pivot = col;
            for (int r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            if (Math.abs(a[col][col]) < 1e-300) continue;
            for (int r = 0; r < k; r++) {
                if (r == col) continue;
                double f = a[r][col] / a[col][col];
                for (int c = col; c <= k; c++) a[r][c] -= f * a[col][c];
            }
        }
        double[] beta = new double[k];
        for (int r = 0; r < k; r++) beta[r] = Math.abs(a[r][r]) < 1e-300 ? 0 : a[r][k] / a[r][r];
        return beta;
    }

    /** A markdown section: distributions, histograms, the ended share by buffer position, predictability. */
    public static String markdown(Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "### %s (buffer %d, %d distinct %s instances, seed %d)%n%n", r.task(), r.genLength(), r.n(), r.split().label(), r.seed()));
        sb.append("| answer length | min | p10 | median | p90 | max | mean | sd | distinct |\n|---|---|---|---|---|---|---|---|---|\n");
        for (var row : List.of(Map.entry("tokens", r.answerTokens()), Map.entry("steps", r.steps()))) {
            Distribution d = row.getValue();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %.1f | %.1f | %d |%n", row.getKey(), d.min(), d.p10(), d.p50(), d.p90(), d.max(), d.mean(), d.sd(), d.distinct()));
        }
        sb.append("\nSteps (share of instances): ");
        StringJoiner steps = new StringJoiner(", ");
        r.stepCounts().forEach((k, v) -> steps.add(String.format(Locale.ROOT, "%d: %.1f%%", k, 100.0 * v / r.n())));
        sb.append(steps).append("\n\nTokens, in bins of 8 (share of instances): ");
        SortedMap<Integer, Integer> bins = new TreeMap<>();
        r.tokenCounts().forEach((k, v) -> bins.merge((k - 1) / 8, v, Integer::sum));
        StringJoiner tok = new StringJoiner(", ");
        bins.forEach((b, v) -> tok.add(String.format(Locale.ROOT, "%d-%d: %.1f%%", 8 * b + 1, 8 * b + 8, 100.0 * v / r.n())));
        sb.append(tok).append("\n\n");
        sb.append(String.format(Locale.ROOT, "Answers ended (the reference holds EOS) by buffer position: 10%% by %d, 50%% by %d, 90%% by %d of %d; the longest answer takes %d.%n%n",
                r.positionEnded(0.1), r.positionEnded(0.5), r.positionEnded(0.9), r.genLength(), r.answerTokens().max()));
        sb.append("| predicting the length from the prompt | R² tokens | R² steps | RMSE tokens | exact tokens | exact steps | exact tokens, no features | exact steps, no features |\n|---|---|---|---|---|---|---|---|\n");
        for (Predictability p : r.predictability()) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | %s | %s | %s | %s |%n", p.features(), num(p.r2Tokens()), num(p.r2Steps()), p.rmseTokens(),
                    pct(p.exactTokens()), pct(p.exactSteps()), pct(p.modeExactTokens()), pct(p.modeExactSteps())));
        }
        return sb.toString();
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "(constant)" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
