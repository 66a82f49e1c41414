package dev.unmask.runs.probe;

import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The first forward pass's end-of-sequence belief per buffer position against the share of answers
 * that have really ended there, and how many answers a confidence threshold would cut short in that
 * first pass (EOS committed before the answer's end). In full diffusion this is where the
 * premature-EOS failure starts: a model that reads the length off the prompt is sure and right, one
 * whose length depends on the work should be unsure.
 */
public record FirstPassEos(List<EosRow> rows, EosSummary summary) {
    /**
     * The first forward pass at one buffer position (1-based), over the prompts: the share whose
     * reference answer has ended there (holds EOS), the mean p(EOS), the share with p(EOS) >= 0.9,
     * and the share with p(EOS) >= 0.9 where the answer has not ended (a threshold-0.9 rule commits
     * that EOS in its first step and the answer is cut short).
     */
    public record EosRow(String task, int position, int n, double endedShare, double meanEosProb, double shareEosAbove09, double prematureAbove09) {
    }

    /**
     * Over the prompts: the mean absolute gap between the first pass's mean p(EOS) and the ended
     * share, across buffer positions, and for each threshold the share of answers with p(EOS) >= tau
     * at some position before their end, i.e. that a Fast-dLLM threshold rule in full diffusion cuts
     * short in its first step.
     */
    public record EosSummary(String task, int n, double meanAbsGap, Map<String, Double> truncatedInFirstPassAtTau) {
    }

    static final double[] TRUNCATION_TAUS = {0.5, 0.7, 0.9, 0.95, 0.99};

    /** One forward pass per prompt with the whole buffer masked: p(EOS) at each buffer position against the reference. */
    public static FirstPassEos measure(Denoiser dllm, Task task, Split split, int n, long seed, int batch) {
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
    public String markdown() {
        StringBuilder sb = new StringBuilder("| task | buffer position | answers ended | mean p(EOS), first pass | p(EOS) >= 0.9 | of those, not ended |\n|---|---|---|---|---|---|\n");
        int every = Math.max(1, rows.size() / 32);
        for (EosRow r : rows) {
            if (r.position() % every != 0 && r.position() != 1) continue;
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.3f | %.3f |%n", r.task(), r.position(), r.endedShare(), r.meanEosProb(),
                    r.shareEosAbove09(), r.prematureAbove09()));
        }
        EosSummary s = summary;
        StringJoiner trunc = new StringJoiner(", ");
        s.truncatedInFirstPassAtTau().forEach((tau, share) -> trunc.add(String.format(Locale.ROOT, "tau %s: %.1f%%", tau, 100 * share)));
        sb.append(String.format(Locale.ROOT, "%n%s, %d prompts: mean |p(EOS) - ended share| over the buffer %.3f; answers cut short by an EOS a threshold rule commits in the first pass: %s%n",
                s.task(), s.n(), s.meanAbsGap(), trunc));
        return sb.toString();
    }
}
